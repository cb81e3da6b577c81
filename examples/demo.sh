#!/usr/bin/env bash
# The whole pipeline on the example data drop, in a throw-away workspace ($TUTELA_WORKSPACE).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TUTELA_WORKSPACE:?set TUTELA_WORKSPACE to a throw-away directory}"
LIVE_DIR="$(mktemp -d)"
trap 'rm -rf "$TUTELA_WORKSPACE" "$LIVE_DIR"' EXIT
export COLUMNS="${COLUMNS:-150}"  # wide enough for the tables when output is not a terminal
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Load the data drop from five systems"
tutela load examples/drop/crm_customers.csv examples/drop/crm_greece_legacy.csv --source crm
tutela load examples/drop/newsletter_subscribers.csv --source newsletter
tutela load examples/drop/callcentre_tickets.jsonl --source callcentre
tutela load examples/drop/web_events.parquet --source web-analytics
tutela load examples/drop/orders.xlsx --source orders
tutela load examples/drop/support_survey_utf16.csv --source survey
tutela load examples/drop/consents.csv --source consent-ledger
tutela load examples/drop/requests.csv --source ticketing  # the request log the policy declares

step "What is loaded, and from where"
tutela tables
tutela sources

step "Scan every table for personal data"
tutela scan

step "Check the loaded data against the company's policy (exit 1: findings expected)"
tutela policy validate policies/acme.yaml
tutela policy check -p policies/acme.yaml || true

step "Find Anna Puig i Ferrer in every system (e-mail -> CRM -> phone -> tickets ...)"
tutela subject find --email anna.puig@example.com -p policies/acme.yaml

step "Her subject-access report"
tutela sar --email anna.puig@example.com -p policies/acme.yaml --out "$TUTELA_WORKSPACE/reports" --request-id REQ-2026-0041

step "Erasure: the plan, then apply, verify and certify"
tutela erase --email anna.puig@example.com -p policies/acme.yaml --dry-run
tutela erase --email anna.puig@example.com -p policies/acme.yaml --apply --out "$TUTELA_WORKSPACE/reports" --request-id DEMO-1

step "A batch of requests from the ticketing system (exit 1: some need review or failed)"
tutela requests run examples/drop/requests.csv -p policies/acme.yaml --apply --out "$TUTELA_WORKSPACE/reports" || true
tutela requests list --overdue
tutela requests confirm DEMO-1 --system crm --note "deleted in CRM ticket 4411"

step "Enforcement: retention, consent, role views and purpose-bound exports"
tutela retention plan -p policies/acme.yaml
tutela consent import examples/drop/consents.csv -p policies/acme.yaml
tutela consent withdraw --email roisin.higgins@example.com --purpose marketing_email -p policies/acme.yaml
tutela export newsletter_subscribers --purpose marketing_email -p policies/acme.yaml --out "$TUTELA_WORKSPACE/send_list.csv"
tutela consent check "$TUTELA_WORKSPACE/send_list.csv" --purpose marketing_email -p policies/acme.yaml
tutela view create --role support_agent -p policies/acme.yaml
tutela export crm_customers --role analyst -p policies/acme.yaml --out "$TUTELA_WORKSPACE/crm_for_analytics.parquet"
tutela retention apply --apply -p policies/acme.yaml

step "Protection: tokens for analysts, reversible values for the DPO, re-identification risk"
tutela keys init
tutela pseudonymize crm_customers --columns email=encrypt,telefono=phone,fecha_nacimiento=age_band:10 --out "$TUTELA_WORKSPACE/crm_pseudo.parquet"
tutela reidentify "$TUTELA_WORKSPACE/crm_pseudo.parquet" --columns email --role dpo -p policies/acme.yaml --out "$TUTELA_WORKSPACE/crm_dpo.parquet"
tutela risk crm_customers --quasi codigo_postal,ciudad --sensitive segmento

step "A live database: the loyalty programme's SQLite file, attached read-only and scanned in place"
python - "$LIVE_DIR/loyalty.sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("CREATE TABLE members (card_no TEXT, full_name TEXT, email TEXT, mobile TEXT, points INTEGER)")
con.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?)", [
    ("LC-1001", "Jordi Casals", "jordi.casals@example.cat", "+34 612 345 678", 1200),
    ("LC-1002", "Zofia Wiśniewska", "zofia.w@example.pl", "+48 601 222 333", 80),
    ("LC-1003", "Νίκος Παπαδόπουλος", "nikos.p@example.gr", "+30 691 234 5678", 455),
])
con.commit()
PY
tutela attach loyalty "$LIVE_DIR/loyalty.sqlite" --read-only
tutela attachments
tutela scan loyalty.main.members

step "A lakehouse: a Delta Lake copy of the CRM, tickets and web events, governed in place"
python examples/lake/make_lake.py "$LIVE_DIR/lake"
tutela attach lake "delta:$LIVE_DIR/lake"
tutela scan lake.crm.customers lake.support.tickets
tutela erase --email anna.puig@example.com -p examples/lake/policy.yaml --apply --out "$TUTELA_WORKSPACE/reports" --request-id LAKE-1 || true
echo "files under the lake folder still holding her e-mail or DNI: $(grep -rla -e anna.puig@example.com -e 73240967C "$LIVE_DIR/lake" | wc -l)"

step "A household: two people, one landline. Whose data is whose?"
HH="$TUTELA_WORKSPACE/households"
python examples/households/generate.py --out "$HH/drop" --people 60 --requests 4
tutela -w "$HH/ws" load "$HH"/drop/crm_customers.csv "$HH"/drop/orders.csv "$HH"/drop/web_events.csv "$HH"/drop/tickets.csv "$HH"/drop/newsletter.csv --source households
HH_EMAIL="$(python - "$HH/drop" <<'PY'
import csv, sys
from collections import Counter
rows = list(csv.DictReader(open(f"{sys.argv[1]}/crm_customers.csv", encoding="utf-8")))
shared = Counter(r["phone"] for r in rows)
print(next(r["email"] for r in rows if shared[r["phone"]] > 1))
PY
)"
tutela -w "$HH/ws" erase --email "$HH_EMAIL" -p examples/households/policy.yaml --dry-run --request-id HH-1
tutela -w "$HH/ws" review list HH-1

step "The audit log is intact"
tutela audit verify

step "The governance report for the DPO (one self-contained HTML file)"
REPORT="${TUTELA_REPORT:-$(mktemp -d)/governance.html}"
tutela report -p policies/acme.yaml --out "$REPORT"
