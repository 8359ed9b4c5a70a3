#!/usr/bin/env bash
# A monthly cron job: last month's sessions and energy per station as CSV, for the accounts team.
#   5 0 1 * *  EVCTL_TOKEN=evctl_... /usr/local/bin/monthly-report.sh /srv/reports
set -euo pipefail
EVCTL=${EVCTL:-evctl}
export EVCTL_DB=${EVCTL_DB:-$(mktemp -d)/evctl.db}
out=${1:-$(mktemp -d)}
zone=${TZ_NAME:-Europe/Amsterdam}

# Last month's first day and this month's first day, as local dates
first_this=$(date +%Y-%m-01)
first_last=$(date -d "$first_this -1 month" +%Y-%m-%d)
month=${first_last:0:7}

# Every session of the month, one row each; opens cleanly in a spreadsheet
$EVCTL report sessions --from "$first_last" --to "$first_this" --tz "$zone" --completed -o csv \
  > "$out/sessions-$month.csv"

# Energy per station, with a total row
$EVCTL report energy --by station --from "$first_last" --to "$first_this" --tz "$zone" -o csv \
  > "$out/energy-$month.csv"

echo "wrote $out/sessions-$month.csv and $out/energy-$month.csv"
