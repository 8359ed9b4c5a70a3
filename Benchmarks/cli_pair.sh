#!/usr/bin/env bash
# Two evctl binaries side by side on one store, alternating, in the same minutes (issue 15 item 7):
# wall milliseconds (best and median of N) for `station list -o json`, `group list -o json`
# and `version`, the dynamic loader's share (LD_DEBUG=statistics) and the shared libraries
# loaded. A benchmark, not a test. The store is the `cli-scale` one (20,000 stations, 200,000 tokens).
#
#   bash Benchmarks/cli_pair.sh OLD_BIN NEW_BIN STORE [ROUNDS]
set -euo pipefail
old=$1 new=$2 db=$3 rounds=${4:-2}
out=${RESULTS_DIR:-$(dirname "$0")/results}/cli/cli_pair.json
mkdir -p "$(dirname "$out")"
python3 - "$old" "$new" "$db" "$rounds" "$out" <<'PY'
import json, os, re, subprocess, sys, time
old, new, db, rounds, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def timed(binary, args, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t) * 1000)
        if r.returncode: raise SystemExit(f"{binary} {args}: {r.stderr.decode()}")
    times.sort()
    return {"best_ms": round(times[0], 1), "median_ms": round(times[len(times) // 2], 1), "runs": n}
def loader(binary):
    cycles = []
    for _ in range(9):
        err = subprocess.run([binary, "version"], env={**os.environ, "LD_DEBUG": "statistics"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
        cycles.append(int(re.search(r"total startup time in dynamic loader: (\d+) cycles", err).group(1)))
    files = subprocess.run([binary, "version"], env={**os.environ, "LD_DEBUG": "files"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    return {"loader_cycles_best": min(cycles), "loader_cycles_median": sorted(cycles)[4],
            "libraries_loaded": len(set(re.findall(r"file=(\S+) \[0\];  needed by", files)))}
commands = {"station_list_json": (["--db", db, "station", "list", "-o", "json"], 7),
            "group_list_json": (["--db", db, "group", "list", "-o", "json"], 7),
            "version": (["version"], 21)}
result = {"old": old, "new": new, "store": db, "rounds": []}
for _ in range(rounds):
    row = {}
    for name, (args, n) in commands.items():
        row[name] = {"old": timed(old, args, n), "new": timed(new, args, n)}
    result["rounds"].append(row)
result["loader"] = {"old": loader(old), "new": loader(new)}
result["load_average"] = open("/proc/loadavg").read().split()[:3]
json.dump(result, open(out, "w"), indent=2)
for i, row in enumerate(result["rounds"]):
    for name, pair in row.items():
        print(f"round {i + 1} {name:18} old best {pair['old']['best_ms']:7.1f} median {pair['old']['median_ms']:7.1f} ms | new best {pair['new']['best_ms']:7.1f} median {pair['new']['median_ms']:7.1f} ms")
print("loader", json.dumps(result["loader"]), "load", result["load_average"])
PY
