#!/usr/bin/env bash
# Online backup (safe while `evctl serve` runs) and a check of the copy.
set -euo pipefail
EVCTL=${EVCTL:-evctl}
work=$(mktemp -d)
export EVCTL_DB=${EVCTL_DB:-$work/evctl.db}

$EVCTL -q group create HQ
$EVCTL -q station create CP-1 --name One --group HQ

# Copy the store with SQLite's online backup API
$EVCTL db backup "$work/backup.db"

# The copy is a complete store: check it and read from it
$EVCTL --db "$work/backup.db" db check
$EVCTL --db "$work/backup.db" station list
