"""For any generated drop: what an erasure changes is exactly what the access report showed.

Drops have households and shared devices drawn at random: people share phones, e-mails and
tablets, some orders carry only a phone, some web events have no customer id. For a random
person A, the rows the erasure deletes or anonymizes are exactly the rows A's access report
listed (the policy keeps nothing), and the only other rows it changes are free-text
mentions A's report quoted."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.workspace import Workspace

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: crm, column: name, kind: name}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: email, kind: email}
      - {table: orders, column: name, kind: name}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}, email: {}, phone: {}, name: {}}}
  orders: {columns: {order_id: {}, phone: {}, email: {}, name: {}, note: {free_text: true}}}
  web: {columns: {event_id: {}, customer_id: {}, device_id: {}}}
erasure:
  default: delete
  tables:
    orders: {action: anonymize, columns: [phone, email, name]}
"""

FIRST = ["Anna", "Pau", "Núria", "Marc", "Laia", "Jordi", "Eva", "Joan"]
LAST = ["Puig", "Casals", "Rovira", "Vidal", "Serra"]


@st.composite
def drops(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(2, 6))
    people = []
    for i in range(n):
        people.append(
            {
                "cid": f"C{i}",
                "name": f"{draw(st.sampled_from(FIRST))} {draw(st.sampled_from(LAST))}",
                "email": f"p{i}@example.com",
                "phone": f"6{i:08d}",
                "device": f"device-{i:06d}",
            }
        )
    # households: some people take another's phone, e-mail or tablet
    for p in people:
        if draw(st.booleans()):
            other = draw(st.sampled_from(people))
            key = draw(st.sampled_from(["phone", "email", "device"]))
            p[key] = other[key]
    orders = []
    for j in range(draw(st.integers(0, 8))):
        owner = draw(st.sampled_from(people))
        shape = draw(st.sampled_from(["full", "phone", "email", "phone+name"]))
        mention = draw(st.sampled_from(people))
        note = draw(st.sampled_from(["", f"call {mention['phone']}", f"mail {mention['email']}"]))
        orders.append(
            (
                f"O{j}",
                owner["phone"] if "phone" in shape or shape == "full" else None,
                owner["email"] if shape in ("full", "email") else None,
                owner["name"] if shape in ("full", "phone+name") else None,
                note,
            )
        )
    web = []
    for j in range(draw(st.integers(0, 8))):
        owner = draw(st.sampled_from(people))
        logged_in = draw(st.booleans())
        web.append((f"W{j}", owner["cid"] if logged_in else None, owner["device"]))
    target = draw(st.sampled_from(people))
    return {"people": people, "orders": orders, "web": web, "target": target}


def _snapshot(ws: Workspace) -> dict[str, dict[str, tuple[object, ...]]]:
    return {
        t: {str(r[0]): r for r in ws.con.execute(f'SELECT * FROM "{t}"').fetchall()}
        for t in ("crm", "orders", "web")
    }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drop=drops())
def test_erased_rows_are_exactly_the_reported_rows(drop: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "policy.yaml").write_text(POLICY, encoding="utf-8")
        policy = load_policy(root / "policy.yaml").policy
        ws = Workspace.open(root / "ws")
        try:
            con = ws.con
            con.execute(
                "CREATE TABLE crm (customer_id VARCHAR, email VARCHAR, phone VARCHAR, name VARCHAR)"
            )
            people = drop["people"]
            assert isinstance(people, list)
            con.executemany(
                "INSERT INTO crm VALUES (?, ?, ?, ?)",
                [(p["cid"], p["email"], p["phone"], p["name"]) for p in people],
            )
            con.execute(
                "CREATE TABLE orders (order_id VARCHAR, phone VARCHAR, email VARCHAR, "
                "name VARCHAR, note VARCHAR)"
            )
            if drop["orders"]:
                con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", drop["orders"])
            con.execute(
                "CREATE TABLE web (event_id VARCHAR, customer_id VARCHAR, device_id VARCHAR)"
            )
            if drop["web"]:
                con.executemany("INSERT INTO web VALUES (?, ?, ?)", drop["web"])
            target = drop["target"]
            assert isinstance(target, dict)
            ctx = service.context(ws, policy)
            ids = {"customer_id": [target["cid"]]}
            report = service.access_reports(ctx, {"R": ids}, root / "sar")["R"]["report"]
            reported = {
                (t["table"], str(r[t["columns"][0]])) for t in report["tables"] for r in t["rows"]
            }
            quoted = {(m["table"], m["column"]) for m in report["free_text_mentions"]}
            before = _snapshot(ws)
            clean, plans = service.plan_erasures(ctx, {"E": ids})
            [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
            after = _snapshot(ws)
            changed = {
                (t, k)
                for t, rows in before.items()
                for k, row in rows.items()
                if after[t].get(k) != row
            }
            assert cert["verification"]["ok"], cert["verification"]
            row_changes = {
                (t, k)
                for t, k in changed
                if not (
                    t == "orders"
                    and (t, k) not in reported
                    and after[t].get(k) is not None
                    and after[t][k][:4] == before[t][k][:4]
                )
            }
            assert row_changes == reported
            if changed - reported:
                assert quoted, "only free-text mentions may change outside the report"
        finally:
            ws.close()


EMAILS = ["anna@x.es", "ANNA@X.ES ", "Anna <anna@x.es>", "anna@x.es; bob@x.es", "'anna@x.es'.",
          "bob@x.es", "mailto:bob@x.es", "bob@x.es,anna@x.es", "ann\u200ba@x.es", None,
          "anna+shop@x.es", "ANNA+news@X.ES"]  # fmt: skip
PHONES = ["612 345 678", "+34 612-345-678", "0034612345678", "612345678.0", "612 345 678 ext 2",
          "699 000 111", "(699) 000-111", "34699000111", None]  # fmt: skip
NOTES = ["llamar al 612 345 678 2 veces", "tel. 0034 612 345 678", "612-345-678, urgente",
         "mail anna@x.es please", "ANNA@X.ES wrote", "pedido 1612345678", "612 34 56 78",
         "llamar al 612 345 678 o 699 000 111", "+34612345678.", "nada", None]  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(EMAILS), st.sampled_from(PHONES)), min_size=1, max_size=12
    ),
    notes=st.lists(st.sampled_from(NOTES), min_size=1, max_size=6),
    wanted=st.sampled_from(
        [
            {"email": ["anna@x.es"]},
            {"phone": ["612345678"]},
            {"email": ["bob@x.es"], "phone": ["699000111"]},
            {"email": ["anna+news@x.es"]},
        ]
    ),
)
def test_a_persons_result_does_not_depend_on_the_batch_around_it(
    rows: list[tuple[str | None, str | None]],
    notes: list[str | None],
    wanted: dict[str, list[str]],
) -> None:
    """The rows, possible matches and mentions in free text found for a person are the same
    searched alone and within a batch of unrelated requests (over 64 e-mails, mailboxes and
    16 phone numbers: the search picks candidate rows and texts another way)."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    with tempfile.TemporaryDirectory() as tmp, Workspace.open(Path(tmp) / "ws") as ws:
        ws.con.execute("CREATE TABLE contacts (email VARCHAR, phone VARCHAR)")
        ws.con.executemany("INSERT INTO contacts VALUES (?, ?)", [list(r) for r in rows])
        ws.con.execute("CREATE TABLE tickets (notes VARCHAR)")
        ws.con.executemany("INSERT INTO tickets VALUES (?)", [[n] for n in notes])
        links = [
            LinkSpec("contacts", "email", "email", "email"),
            LinkSpec("contacts", "phone", "phone", "e164", region="ES"),
        ]
        space = search_space(ws, links, [("tickets", "notes")])
        others = {  # tagged: their mailboxes are looked for too (over 64 of them)
            f"o{i}": {"email": [f"aa{i}+t@z.es"], "phone": [f"6{i:08d}"]} for i in range(70)
        }
        alone = find_subjects(ws, space, {"r": wanted})["r"]
        batch = find_subjects(ws, space, {"r": wanted, **others})["r"]
        assert batch.rows == alone.rows
        assert sorted((p.table, p.rowid, p.reason) for p in batch.possible) == sorted(
            (p.table, p.rowid, p.reason) for p in alone.possible
        )
        assert sorted((h.rowid, sorted(h.fragments)) for h in batch.free_text) == sorted(
            (h.rowid, sorted(h.fragments)) for h in alone.free_text
        )
