"""Measure subject matching against the truth of a generated households drop.

For every request of `requests.csv` (one person each), in one batch: the rows the access
report holds that belong to someone else (must be 0), the person's own rows found for
certain, and the possible matches (how many are the person's: precision; how many of the
person's rows not found for certain they cover: recall). With --erase, every erasure of the
batch is applied to a copy and every row of every other person is compared before and
after (must be identical).

    python examples/households/generate.py --out /tmp/hh --people 2000 --requests 200
    python examples/households/evaluate.py /tmp/hh --erase
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tutela.ingest.load import load_files
from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.subjects.find import find_subjects
from tutela.workspace import Workspace

POLICY = Path(__file__).with_name("policy.yaml")
KEYS = {
    "crm_customers": "customer_id",
    "orders": "order_id",
    "web_events": "event_id",
    "tickets": "ticket_id",
    "newsletter": "subscriber_id",
}


def _truth(drop: Path) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    with (drop / "truth.csv").open(encoding="utf-8") as fh:
        rows = {(r["table"], r["key"]): r["person"] for r in csv.DictReader(fh)}
    with (drop / "requests_truth.csv").open(encoding="utf-8") as fh:
        people = {r["request_id"]: r["person"] for r in csv.DictReader(fh)}
    return rows, people


def _requests(drop: Path) -> dict[str, dict[str, list[str]]]:
    with (drop / "requests.csv").open(encoding="utf-8") as fh:
        out = {}
        for r in csv.DictReader(fh):
            ids = {"email": [r["email"]]}
            if r["customer_id"]:
                ids["customer_id"] = [r["customer_id"]]
            out[r["request_id"]] = ids
        return out


def _keys(ws: Workspace, table: str, rowids: list[int]) -> list[str]:
    col = KEYS[table]
    rows = ws.con.execute(
        f'SELECT "{col}" FROM "{table}" WHERE rowid IN (SELECT UNNEST(?::BIGINT[]))', [rowids]
    ).fetchall()
    return [str(r[0]) for r in rows]


def _snapshot(ws: Workspace) -> dict[tuple[str, str], tuple[Any, ...]]:
    out = {}
    for table, col in KEYS.items():
        cur = ws.con.execute(f'SELECT "{col}", * FROM "{table}"')
        for row in cur.fetchall():
            out[(table, str(row[0]))] = row[1:]
    return out


def evaluate(drop: Path, *, erase: bool = False) -> dict[str, Any]:
    truth, people = _truth(drop)
    requests = _requests(drop)
    policy = load_policy(POLICY).policy
    owned: dict[str, set[tuple[str, str]]] = {}
    for row, persons in truth.items():
        for person in persons.split("|"):
            owned.setdefault(person, set()).add(row)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        try:
            load_files(ws, [drop / f"{t}.csv" for t in KEYS])
            ctx = service.context(ws, policy)
            start = time.perf_counter()
            matches = find_subjects(ctx.ws, ctx.space, requests)
            seconds = time.perf_counter() - start
            crossed = certain = own_total = 0
            possible = possible_right = possible_covers = 0
            worst: list[str] = []
            for req, match in matches.items():
                person = people[req]
                found = {(t, k) for t, rids in match.rows.items() for k in _keys(ws, t, rids)}
                wrong = {r for r in found if person not in truth.get(r, "").split("|")}
                crossed += len(wrong)
                if wrong:
                    worst.append(f"{req}: {sorted(wrong)[:3]}")
                mine = owned.get(person, set())
                certain += len(found & mine)
                own_total += len(mine)
                pos = {(p.table, k) for p in match.possible for k in _keys(ws, p.table, [p.rowid])}
                possible += len(pos)
                possible_right += len({r for r in pos if person in truth.get(r, "").split("|")})
                possible_covers += len((mine - found) & pos)
            result: dict[str, Any] = {
                "requests": len(requests),
                "seconds_for_the_batch": round(seconds, 2),
                "rows_of_other_people_reported": crossed,
                "examples_of_crossing": worst[:5],
                "own_rows": own_total,
                "own_rows_found_for_certain": certain,
                "certain_recall": round(certain / own_total, 3) if own_total else None,
                "possible_matches": possible,
                "possible_precision": round(possible_right / possible, 3) if possible else None,
                "own_rows_left_to_review": own_total - certain,
                "possible_recall": (
                    round(possible_covers / (own_total - certain), 3)
                    if own_total > certain
                    else None
                ),
                "possible_matches_per_request": round(possible / len(requests), 2),
            }
            if erase:
                before = _snapshot(ws)
                erasures = {r: ids for r, ids in requests.items()}
                clean, plans = service.plan_erasures(ctx, erasures)
                certs = service.apply_erasures(ctx, clean, plans, None)
                after = _snapshot(ws)
                erased_people = {people[r] for r in requests}
                touched_others = [
                    row
                    for row, values in before.items()
                    if not erased_people & set(truth.get(row, "").split("|"))
                    and after.get(row) != values
                    and not _only_redacted(values, after.get(row))
                ]
                result["erasure_rows_of_others_changed"] = len(touched_others)
                result["erasure_examples"] = sorted(touched_others)[:5]
                result["erasure_verified"] = all(c["verification"]["ok"] for c, _ in certs)
        finally:
            ws.close()
    return result


def _only_redacted(before: tuple[Any, ...], after: tuple[Any, ...] | None) -> bool:
    """A row of someone else whose only change is a redacted mention of an erased person."""
    if after is None:
        return False
    return all(
        b == a or (isinstance(a, str) and "[REDACTED]" in a)
        for b, a in zip(before, after, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("--erase", action="store_true")
    args = parser.parse_args()
    print(json.dumps(evaluate(args.drop, erase=args.erase), indent=2))


if __name__ == "__main__":
    main()
