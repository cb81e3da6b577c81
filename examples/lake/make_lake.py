"""Write a Delta Lake copy of some example tables (examples/drop) into a folder, the way a
data platform would hold them: crm.customers, support.tickets and web.events (partitioned
by month). Used by `make demo` and the lake tests; needs only Tutela's own dependencies.

    python examples/lake/make_lake.py /tmp/lake
    python examples/lake/make_lake.py --warehouse /tmp/warehouse

`--warehouse` writes the same tables as plain Parquet in a Spark warehouse's layout
(`crm.db/customers/`, `support.db/tickets/`, `web.db/events/month=.../`), for
`tutela attach lake local[2] --warehouse /tmp/warehouse` (or a spark:// master).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from deltalake import write_deltalake

DROP = Path(__file__).resolve().parents[1] / "drop"


def make_lake(root: Path, *, warehouse: bool = False) -> Path:
    con = duckdb.connect()
    if warehouse:
        return _warehouse(con, root)
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


def _warehouse(con: duckdb.DuckDBPyConnection, root: Path) -> Path:
    tables = {
        "crm.db/customers": f"SELECT * FROM read_csv('{DROP / 'crm_customers.csv'}', "
        "delim = ';', header = true, all_varchar = true)",
        "support.db/tickets": "SELECT ticket_id, opened_at, caller_phone, channel, category, "
        "notes, customer.name AS customer_name, customer.customer_ref AS customer_ref FROM "
        f"read_json('{DROP / 'callcentre_tickets.jsonl'}', format = 'newline_delimited')",
    }
    for folder, sql in tables.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({sql}) TO '{root / folder / 'part-00000.parquet'}' (FORMAT parquet)")
    events = root / "web.db" / "events"
    events.mkdir(parents=True, exist_ok=True)
    con.execute(
        "COPY (SELECT *, strftime(event_time, '%Y-%m') AS month FROM "
        f"read_parquet('{DROP / 'web_events.parquet'}')) TO '{events}' "
        "(FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)"
    )
    con.close()
    return root


if __name__ == "__main__":
    args = sys.argv[1:]
    spark_layout = "--warehouse" in args
    folder = next(a for a in args if a != "--warehouse")
    print(make_lake(Path(folder), warehouse=spark_layout))
