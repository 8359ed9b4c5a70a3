#!/usr/bin/env bash
# A five-minute tour: a site with two floors, stations, a driver with a card, and JSON for scripts.
set -euo pipefail
EVCTL=${EVCTL:-evctl}
export EVCTL_DB=${EVCTL_DB:-$(mktemp -d)/evctl.db}

# A site and its floors (CTEK's System -> Site -> Floor navigator)
$EVCTL group create "Head Office" --kind site --address "Stationsplein 1, Utrecht" --lat 52.089 --lon 5.110
$EVCTL group create "P1" --parent "Head Office" --kind floor
$EVCTL group create "P2" --parent "Head Office" --kind floor

# Two stations; the identity is what the charger puts at the end of its OCPP URL
$EVCTL station create ACE0001 --name "P1 left" --group "Head Office/P1" --connectors 2
$EVCTL station create ACE0002 --name "P2 wall" --group "Head Office/P2"

# A driver and her card; the UID may be written with colons, in hex or in decimal
$EVCTL user create eva@example.com --first Eva --last Berg
$EVCTL token add 04:a1:b2:c3 --user eva@example.com --name "Workplace token" --valid-to 365d

# The navigator and a table
$EVCTL group tree
$EVCTL station list -o table

# JSON for scripts: the identities of every station on floor P1
$EVCTL station list --group "Head Office/P1" -o json | jq -r '.[].identity'
