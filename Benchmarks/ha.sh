#!/usr/bin/env bash
# Issue 14's benchmarks other than sat/rtt (not tests; figures go to Benchmarks/results/ha/):
#   bash Benchmarks/ha.sh failover     # kill -9 of one of three nodes behind HAProxy, 1,000 stations
#   bash Benchmarks/ha.sh reports-pg   # report sessions -o csv at 1,000,000 sessions on PostgreSQL
#                                      # against psql --csv running the same query
# Needs the Debian packages postgresql, haproxy and sqlite3; the Python peer venv of Tests/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${RESULTS_DIR:-$ROOT/Benchmarks/results}/ha
mkdir -p "$OUT"
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || { echo "error: no $PY: run Tests/run.sh once (it makes the venv)" >&2; exit 69; }
swift build -c release --product evctl
EVCTL=$ROOT/.build/release/evctl

failover() {
  EVCTL_BIN=$EVCTL "$PY" Benchmarks/failover.py "${FAILOVER_STATIONS:-1000}" | tee "$OUT/failover_1000.json"
}

# The SQLite store of Benchmarks/run.sh's `reports` (200 stations, 1,000 tokens, 1,000,000
# sessions), copied into a throwaway PostgreSQL cluster with `db copy`.
reports_pg() {
  local db=/tmp/evctl-bench-reports.db
  if [ ! -f "$db" ]; then
    "$EVCTL" --db "$db" -q group create Site --kind site
    "$PY" -c 'print("identity,name,group,connectors,security_profile"); [print(f"R{i:04d},Bay {i},Site,2,0") for i in range(200)]' > /tmp/evctl-r-stations.csv
    "$EVCTL" --db "$db" -q station import /tmp/evctl-r-stations.csv
    "$EVCTL" --db "$db" -q user create fleet@example.com --first Fleet --last Owner
    "$PY" -c 'print("id_tag,user"); [print(f"CARD{i:05d},fleet@example.com") for i in range(1000)]' > /tmp/evctl-r-tokens.csv
    "$EVCTL" --db "$db" -q token import /tmp/evctl-r-tokens.csv
    sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
        meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
      SELECT i, 1 + i % 200, 1 + i % 2, printf('CARD%05d', i % 1000), 1 + i % 1000, 'Accepted', 1000,
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'),
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'),
        1000 + (i % 50000), strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30 + 3600) || ' seconds'),
        'EVDisconnected', 'completed', strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds')
      FROM n;"
  fi
  local pg base url
  pg=$(python3 Tests/peer/pgcluster.py start)
  base=$(sed -n 1p <<<"$pg"); url=$(sed -n 2p <<<"$pg")
  trap 'python3 Tests/peer/pgcluster.py stop "$base"' RETURN
  "$EVCTL" db copy --from "sqlite:$db" --to "$url" >/dev/null
  psql -X -q -h "$base" -U evctl -d evctl_swift -c "VACUUM ANALYZE" >/dev/null
  # The query evctl runs, as PostgreSQL received it (log_statement through PGOPTIONS), with its
  # parameters put in as literals, for psql.
  local log=/tmp/evctl-r-pg-statement.log
  PGOPTIONS="-c log_statement=all -c log_parameter_max_length=-1" "$EVCTL" --db "$url" report sessions -o csv > /dev/null
  cp "$base/log" "$log"
  local floor_sql
  floor_sql=$("$PY" - "$log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# The last statement that selects from transactions, and the parameters logged after it.
entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
sql, params = None, {}
for i, e in enumerate(entries):
    m = re.search(r"(?:execute [^:]*|statement): (SELECT .*)", e, re.S)
    if m and "FROM transactions" in m.group(1):
        sql, params = m.group(1), {}
        tail = entries[i + 1] if i + 1 < len(entries) else ""
        d = re.search(r"DETAIL:\s+(?:Parameters|parameters): (.*)", e + "\n" + tail)
        if d:
            for n, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", d.group(1)):
                params[int(n)] = v
for n in sorted(params, reverse=True):
    sql = sql.replace(f"${n}", params[n])
sql = re.sub(r"\$\d+", "NULL", sql)
print(" ".join(line.strip() for line in sql.strip().splitlines()))
PY
)
  /usr/bin/time -f "%e %M" -o /tmp/evctl-r-time "$EVCTL" --db "$url" report sessions -o csv > /tmp/evctl-r-pg.csv
  read -r evctl_s evctl_kib < /tmp/evctl-r-time
  /usr/bin/time -f "%e %M" -o /tmp/evctl-r-time psql -X -q --csv -h "$base" -U evctl -d evctl_swift -c "$floor_sql" > /tmp/evctl-r-psql.csv
  read -r floor_s floor_kib < /tmp/evctl-r-time
  "$PY" - "$evctl_s" "$evctl_kib" "$floor_s" "$floor_kib" "$(wc -l < /tmp/evctl-r-pg.csv)" "$(wc -l < /tmp/evctl-r-psql.csv)" "$OUT/reports_pg_1000000.json" <<'PY'
import json, sys
e_s, e_k, f_s, f_k, e_lines, f_lines, out = sys.argv[1:]
result = {"sessions": 1000000, "backend": "postgresql", "evctl_seconds": float(e_s),
          "evctl_peak_rss_mib": round(int(e_k) / 1024, 1), "psql_seconds": float(f_s),
          "psql_peak_rss_mib": round(int(f_k) / 1024, 1), "ratio": round(float(e_s) / float(f_s), 2),
          "goal_ratio": 2, "evctl_lines": int(e_lines), "psql_lines": int(f_lines)}
json.dump(result, open(out, "w"), indent=2)
print("reports-pg", json.dumps(result))
PY
}

[ $# -gt 0 ] || set -- failover reports-pg
for r in "$@"; do
  case "$r" in
    failover) failover ;;
    reports-pg) reports_pg ;;
    *) echo "unknown run '$r' (failover reports-pg)" >&2; exit 64 ;;
  esac
done
