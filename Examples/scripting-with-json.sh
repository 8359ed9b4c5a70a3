#!/usr/bin/env bash
# Scripting with -o json and jq: the stable, snake_case interface.
set -euo pipefail
EVCTL=${EVCTL:-evctl}
export EVCTL_DB=${EVCTL_DB:-$(mktemp -d)/evctl.db}

$EVCTL -q group create Lot --kind site
for n in 1 2 3; do $EVCTL -q station create "LOT-0$n" --name "Lot $n" --group Lot; done

# Count stations per state
$EVCTL station list -o json | jq -r 'group_by(.state) | map("\(.[0].state)\t\(length)") | .[]'

# Stations never seen online, as identities
$EVCTL station list -o json | jq -r '.[] | select(.last_seen_at == null) | .identity'

# Exit codes are a contract: 66 means "not found"
status=0
$EVCTL station show NO-SUCH-STATION >/dev/null 2>&1 || status=$?
[ "$status" -eq 66 ] && echo "NO-SUCH-STATION: not found (exit code $status)"
