#!/usr/bin/env bash
# Provisions a site and its stations from a CSV file, all or nothing, then grants a team access.
set -euo pipefail
EVCTL=${EVCTL:-evctl}
export EVCTL_DB=${EVCTL_DB:-$(mktemp -d)/evctl.db}
here=$(cd "$(dirname "$0")" && pwd)

# The site the CSV refers to
$EVCTL group create Depot --kind site

# Check the file first, then import it (a bad row would print FILE:LINE: reason and exit 65)
$EVCTL station import "$here/site-stations.csv" --dry-run
$EVCTL station import "$here/site-stations.csv"

# Running the same import again changes nothing
$EVCTL station import "$here/site-stations.csv"

# The private bays need an access right: give one to the fleet manager
$EVCTL user create fleet@example.com --first Fleet --last Manager
$EVCTL user grant fleet@example.com --group Depot

$EVCTL station list --group Depot -o wide
