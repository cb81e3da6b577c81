#!/usr/bin/env bash
# The whole pipeline on the example data drop, in a throw-away workspace ($TUTELA_WORKSPACE).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TUTELA_WORKSPACE:?set TUTELA_WORKSPACE to a throw-away directory}"
trap 'rm -rf "$TUTELA_WORKSPACE"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Load the data drop from five systems"
tutela load examples/drop/crm_customers.csv examples/drop/crm_greece_legacy.csv --source crm
tutela load examples/drop/newsletter_subscribers.csv --source newsletter
tutela load examples/drop/callcentre_tickets.jsonl --source callcentre
tutela load examples/drop/web_events.parquet --source web-analytics
tutela load examples/drop/orders.xlsx --source orders
tutela load examples/drop/support_survey_utf16.csv --source survey
tutela load examples/drop/consents.csv --source consent-ledger

step "What is loaded, and from where"
tutela tables
tutela sources
