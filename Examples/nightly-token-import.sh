#!/usr/bin/env bash
# A nightly cron job: import the HR system's token export, all or nothing; quiet on success.
#   15 2 * * *  EVCTL_TOKEN=evctl_... /usr/local/bin/nightly-token-import.sh /srv/hr/tokens.csv
set -euo pipefail
EVCTL=${EVCTL:-evctl}
export EVCTL_DB=${EVCTL_DB:-$(mktemp -d)/evctl.db}
file=${1:-$(cd "$(dirname "$0")" && pwd)/tokens.csv}

# (Only for this demo: the users the export refers to)
if [ -z "${1:-}" ]; then
  $EVCTL -q user create eva@example.com --first Eva --last Berg
  $EVCTL -q user create tom@example.com --first Tom --last Jansen
fi

# Import; on a bad row cron mails the FILE:LINE: reason lines and nothing is written
$EVCTL -q token import "$file"

# Report tokens that expire within 30 days, for the morning mail
$EVCTL token list --expiring 30d -o csv
