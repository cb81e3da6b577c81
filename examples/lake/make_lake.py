"""Write a Delta Lake copy of some example tables (examples/drop) into a folder, the way a
data platform would hold them: crm.customers, support.tickets and web.events (partitioned
by month). Used by `make demo` and the lake tests; needs only Tutela's own dependencies.

    python examples/lake/make_lake.py /tmp/lake
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from deltalake import write_deltalake

DROP = Path(__file__).resolve().parents[1] / "drop"


def make_lake(root: Path) -> Path:
    con = duckdb.connect()
    customers = con.sql(
        f"SELECT * FROM read_csv('{DROP / 'crm_customers.csv'}', delim = ';', header = true, "
        "all_varchar = true)"
    )
    write_deltalake(str(root / "crm" / "customers"), customers)
    tickets = con.sql(
        "SELECT ticket_id, opened_at, caller_phone, channel, category, notes, "
        "customer.name AS customer_name, customer.customer_ref AS customer_ref "
        f"FROM read_json('{DROP / 'callcentre_tickets.jsonl'}', format = 'newline_delimited')"
    )
    write_deltalake(str(root / "support" / "tickets"), tickets)
    events = con.sql(
        "SELECT *, strftime(event_time, '%Y-%m') AS month "
        f"FROM read_parquet('{DROP / 'web_events.parquet'}')"
    )
    write_deltalake(str(root / "web" / "events"), events, partition_by=["month"])
    con.close()
    return root


if __name__ == "__main__":
    print(make_lake(Path(sys.argv[1])))
