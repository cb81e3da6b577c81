"""Never across people: households, shared e-mails, NAT, shared tablets, placeholders, recycled
numbers, namesakes and typos. For each shape, A's access report holds none of B's rows and
A's erasure leaves every row of B byte-identical."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import json_out
from tutela.policy.loader import load_policy
from tutela.policy.models import Policy
from tutela.subjects import service
from tutela.workspace import Workspace

Cli = Callable[..., Result]

POLICY = """
version: 1
organisation: {name: Casa Shop, country: ES}
subjects:
  customer:
    placeholders: ["+34 900 000 000"]
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES,
         valid_from: phone_since, valid_until: phone_until}
      - {table: crm, column: full_name, kind: name}
      - {table: crm, column: birth_date, kind: birth_date}
      - {table: crm, column: postcode, kind: postcode}
      - {table: crm, column: iban, kind: iban}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: email, kind: email}
      - {table: orders, column: name, kind: name}
      - {table: orders, column: iban, kind: iban}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: device_id, kind: device_id}
      - {table: web, column: ip, kind: ip_address}
      - {table: tickets, column: caller, kind: phone, region: ES, observed_at: opened_at}
      - {table: tickets, column: caller_name, kind: name}
      - {table: newsletter, column: email, kind: email}
tables:
  crm:
    columns:
      customer_id: {category: user.unique_id}
      full_name: PERSON
      email: EMAIL_ADDRESS
      phone: PHONE_NUMBER
      phone_since: not_personal
      phone_until: not_personal
      birth_date: DATE_OF_BIRTH
      postcode: {category: user.contact.address.postal_code}
      iban: IBAN_CODE
  orders:
    columns: {order_id: not_personal, phone: PHONE_NUMBER, email: EMAIL_ADDRESS,
              name: PERSON, iban: IBAN_CODE}
  web:
    columns: {event_id: not_personal, customer_id: {category: user.unique_id},
              cookie_id: ONLINE_ID, device_id: ONLINE_ID, ip: IP_ADDRESS}
  tickets:
    columns: {ticket_id: not_personal, opened_at: not_personal, caller: PHONE_NUMBER,
              caller_name: PERSON, notes: {category: user.content.private, free_text: true}}
  newsletter:
    columns: {email: EMAIL_ADDRESS}
erasure:
  default: delete
"""

PAU_IBAN = "ES91 2100 0418 4502 0005 1332"


def build(ws: Workspace) -> None:
    con = ws.con
    crm = [
        ("C1", "Pau Casals", "pau.casals@example.cat", "+34 933 112 233", None, None,
         "1970-03-02", "08012", PAU_IBAN),
        ("C2", "Núria Casals", "nuria.casals@example.cat", "933112233", None, None,
         "1972-07-19", "08012", None),
        ("C3", "Marc Rovira", "family.rovira@example.com", "611 000 333", None, None,
         "1980-01-01", "17001", None),
        ("C4", "Laia Rovira", "family.rovira@example.com", "622 000 444", None, None,
         "1982-02-02", "17001", None),
        ("C6", "Oriol Vidal", "oriol.vidal@example.com", "644 200 300", None, None,
         "1985-04-04", "25001", None),
        ("C7", "Berta Vidal", "berta.vidal@example.com", "655 300 400", None, None,
         "1987-05-05", "25001", None),
        ("C8", "Jordi Vell", "jordi.vell@example.com", "666 777 888", "2015-01-01",
         "2024-03-01", "1960-06-06", "43001", None),
        ("C9", "Eva Nova", "eva.nova@example.com", "666 777 888", "2024-03-01", None,
         "1999-09-09", "43002", None),
        ("C10", "Joan Martí Puig", "joan.marti.1@example.com", "677 111 222", None, None,
         "1980-01-01", "08001", None),
        ("C11", "Joan Martí Puig", "joan.marti.2@example.com", "688 222 333", None, None,
         "1991-05-05", "08002", None),
    ]  # fmt: skip
    crm += [
        (f"N{i}", f"Nat Person{i}", f"nat{i}@example.com", f"69{i:07d}", None, None,
         "1990-01-01", "08003", None)
        for i in range(50)
    ]  # fmt: skip
    con.execute(
        "CREATE TABLE crm (customer_id VARCHAR, full_name VARCHAR, email VARCHAR, "
        "phone VARCHAR, phone_since DATE, phone_until DATE, birth_date VARCHAR, "
        "postcode VARCHAR, iban VARCHAR)"
    )
    con.executemany("INSERT INTO crm VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", crm)
    orders = [
        *[(f"O{i}", "933 11 22 33", "pau.casals@example.cat", "Pau Casals", PAU_IBAN)
          for i in range(1, 5)],
        *[(f"O{i}", "+34933112233", "nuria.casals@example.cat", "Núria Casals", None)
          for i in range(5, 7)],
        ("O7", "933112233", None, None, PAU_IBAN),  # landline only, Pau's IBAN
    ]  # fmt: skip
    orders += [
        (f"P{i}", "+34 900 000 000", f"p{i}@example.com", f"Shop Customer {i}", None)
        for i in range(1, 31)
    ]
    con.execute(
        "CREATE TABLE orders (order_id VARCHAR, phone VARCHAR, email VARCHAR, name VARCHAR, "
        "iban VARCHAR)"
    )
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    web = [
        ("W1", "C6", "ck-oriol-000001", "tablet-vidal-0001", "198.51.100.7"),
        ("W2", "C7", "ck-berta-000002", "tablet-vidal-0001", "198.51.100.7"),
        ("W3", None, "ck-shared-00003", "tablet-vidal-0001", "198.51.100.7"),
    ]
    web += [(f"WN{i}", f"N{i}", f"ck-nat-{i:08d}", f"dev-nat-{i:06d}", "100.64.1.1")
            for i in range(50)]  # fmt: skip
    con.execute(
        "CREATE TABLE web (event_id VARCHAR, customer_id VARCHAR, cookie_id VARCHAR, "
        "device_id VARCHAR, ip VARCHAR)"
    )
    con.executemany("INSERT INTO web VALUES (?, ?, ?, ?, ?)", web)
    tickets = [
        ("T1", "2020-05-01 10:00", "666 777 888", "Jordi Vell",
         "Vol canviar jordi.vell@example.com"),
        ("T2", "2025-01-10 11:00", "+34 666 777 888", "Eva Nova", "Nou número"),
        ("T3", "2021-01-01 12:00", "611 999 999", "Sara Amiga",
         "Amiga d'en Jordi: escriu a jordi.vell@example.com"),
        ("T4", "2024-06-01 09:00", "+34 933 112 233", "Núria Casals", "Comanda"),
        ("T5", "2024-07-01 09:30", "933112233", "Pau Casals", "La seva comanda"),
    ]  # fmt: skip
    con.execute(
        "CREATE TABLE tickets (ticket_id VARCHAR, opened_at TIMESTAMP, caller VARCHAR, "
        "caller_name VARCHAR, notes VARCHAR)"
    )
    con.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", tickets)
    con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES ('family.rovira@example.com'), "
        "('nuria.casals@example.cat')) t(email)"
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def policy(policy_file: Path) -> Policy:
    return load_policy(policy_file).policy


@pytest.fixture
def drop(workspace: Workspace) -> Workspace:
    build(workspace)
    return workspace


def _ids(ws: Workspace, table: str, rowids: list[int]) -> set[str]:
    rows = ws.con.execute(
        f'SELECT * FROM "{table}" WHERE rowid IN (SELECT UNNEST(?::BIGINT[]))', [rowids]
    ).fetchall()
    return {str(r[0]) for r in rows}


def _found(ws: Workspace, match: service.SubjectMatch) -> dict[str, set[str]]:
    return {t: _ids(ws, t, rids) for t, rids in match.rows.items()}


def _snapshot(ws: Workspace, table: str, key: str, ids: set[str]) -> list[tuple[object, ...]]:
    return ws.con.execute(
        f'SELECT * FROM "{table}" WHERE "{key}" IN (SELECT UNNEST(?::VARCHAR[])) ORDER BY ALL',
        [sorted(ids)],
    ).fetchall()


def _sar_rows(
    ctx: service.Context, tmp_path: Path, ids: dict[str, list[str]]
) -> dict[str, set[str]]:
    report = service.access_reports(ctx, {"R": ids}, tmp_path / "sar")["R"]["report"]
    return {t["table"]: {str(next(iter(r.values()))) for r in t["rows"]} for t in report["tables"]}


def _policy(tmp_path: Path, text: str) -> Policy:
    """A policy written to a file and loaded as the CLI would."""
    path = tmp_path / "policy-under-test.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path).policy


def _erase(ctx: service.Context, ids: dict[str, list[str]]) -> dict[str, object]:
    clean, plans = service.plan_erasures(ctx, {"E": ids})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    return cert


def test_household_landline(drop: Workspace, policy: Policy, tmp_path: Path) -> None:
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"email": ["nuria.casals@example.cat"]})
    found = _found(drop, match)
    assert found["crm"] == {"C2"}
    assert found["orders"] == {"O5", "O6"}  # her orders: her e-mail is hers alone
    assert "tickets" not in found  # T4 came only through the shared landline
    shared = [h for h in match.held_back if h.kind == "phone"]
    assert shared and shared[0].status == "ambiguous"
    assert "2 different customer ids" in shared[0].detail
    assert shared[0].masked.endswith("2233") and "933112233" not in shared[0].masked
    possible = {(p.table, p.row_ref) for p in match.possible}
    assert ("tickets", "ticket_id=T4") in possible  # T4: hers, but for a human to confirm
    assert not any(p.table == "crm" for p in match.possible)  # Pau's CRM row: someone known
    sar = _sar_rows(ctx, tmp_path, {"email": ["nuria.casals@example.cat"]})
    assert sar["orders"] == {"O5", "O6"} and sar["crm"] == {"C2"}
    pau_before = {
        "crm": _snapshot(drop, "crm", "customer_id", {"C1"}),
        "orders": _snapshot(drop, "orders", "order_id", {"O1", "O2", "O3", "O4", "O7"}),
        "tickets": _snapshot(drop, "tickets", "ticket_id", {"T5"}),
    }
    cert = _erase(ctx, {"email": ["nuria.casals@example.cat"]})
    assert cert["verification"]["ok"] is True  # no "residue" from Pau's rows
    assert pau_before == {
        "crm": _snapshot(drop, "crm", "customer_id", {"C1"}),
        "orders": _snapshot(drop, "orders", "order_id", {"O1", "O2", "O3", "O4", "O7"}),
        "tickets": _snapshot(drop, "tickets", "ticket_id", {"T5"}),
    }
    assert cert["held_back"] and cert["held_back"][0]["kind"] == "phone"


def test_household_member_with_the_other_iban(drop: Workspace, policy: Policy) -> None:
    """The landline-only order carries Pau's IBAN: it is his (IBAN is his alone), and it
    never leads Núria's search to his orders."""
    ctx = service.context(drop, policy)
    pau = _found(drop, service.find(ctx, {"customer_id": ["C1"]}))
    assert pau["orders"] == {"O1", "O2", "O3", "O4", "O7"}
    nuria = service.find(ctx, {"customer_id": ["C2"]})
    assert "iban" not in nuria.keys
    assert not ({"O1", "O2", "O3", "O4", "O7"} & _found(drop, nuria).get("orders", set()))


def test_shared_family_email(drop: Workspace, policy: Policy, tmp_path: Path) -> None:
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"phone": ["611 000 333"]})
    found = _found(drop, match)
    assert found == {"crm": {"C3"}}
    assert "email" not in match.keys  # the family address is not his alone
    assert any(p.table == "newsletter" for p in match.possible)
    laia = _snapshot(drop, "crm", "customer_id", {"C4"})
    newsletter = drop.con.execute("SELECT * FROM newsletter ORDER BY ALL").fetchall()
    cert = _erase(ctx, {"phone": ["611 000 333"]})
    assert cert["verification"]["ok"] is True
    assert _snapshot(drop, "crm", "customer_id", {"C4"}) == laia
    assert drop.con.execute("SELECT * FROM newsletter ORDER BY ALL").fetchall() == newsletter


def test_nat_ip_across_fifty_customers(drop: Workspace, policy: Policy, tmp_path: Path) -> None:
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"ip_address": ["100.64.1.1"]})
    assert not match.rows and not match.possible
    assert match.held_back[0].status == "placeholder"
    one = _found(drop, service.find(ctx, {"customer_id": ["N7"]}))
    assert one == {"crm": {"N7"}, "web": {"WN7"}}
    others = _snapshot(drop, "web", "event_id", {f"WN{i}" for i in range(50) if i != 7})
    cert = _erase(ctx, {"customer_id": ["N7"]})
    assert cert["verification"]["ok"] is True
    assert _snapshot(drop, "web", "event_id", {f"WN{i}" for i in range(50) if i != 7}) == others


def test_shared_tablet(drop: Workspace, policy: Policy) -> None:
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"customer_id": ["C6"]})
    assert _found(drop, match)["web"] == {"W1"}
    assert [p.row_ref for p in match.possible if p.table == "web"] == ["event_id=W3"]  # logged out
    berta = _snapshot(drop, "web", "event_id", {"W2", "W3"})
    _erase(ctx, {"customer_id": ["C6"]})
    assert _snapshot(drop, "web", "event_id", {"W2", "W3"}) == berta


def test_placeholder_phone_over_thirty_rows(drop: Workspace, policy: Policy, cli: Cli,
                                           policy_file: Path) -> None:  # fmt: skip
    drop.close()
    plan = cli("erase", "--email", "p3@example.com", "-p", str(policy_file), "--dry-run",
               "--format", "json")  # fmt: skip
    assert plan.exit_code == 0, plan.stderr
    tables = {t["table"]: t["rows"] for t in json_out(plan)["plan"]["tables"]}
    assert tables == {"orders": 1}
    held = json_out(plan)["plan"]["held_back"]
    assert held and held[0]["status"] == "placeholder"


def test_recycled_phone(drop: Workspace, policy: Policy) -> None:
    """Eva has had Jordi's old number since March 2024: the tickets before are his."""
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"email": ["eva.nova@example.com"]})
    assert _found(drop, match) == {"crm": {"C9"}, "tickets": {"T2"}}
    assert not any(p.table == "tickets" and p.row_ref == "ticket_id=T1" for p in match.possible)
    jordi = {
        "crm": _snapshot(drop, "crm", "customer_id", {"C8"}),
        "tickets": _snapshot(drop, "tickets", "ticket_id", {"T1", "T3"}),
    }
    cert = _erase(ctx, {"email": ["eva.nova@example.com"]})
    assert cert["verification"]["ok"] is True
    assert jordi == {
        "crm": _snapshot(drop, "crm", "customer_id", {"C8"}),
        "tickets": _snapshot(drop, "tickets", "ticket_id", {"T1", "T3"}),
    }


def test_namesakes_with_different_birth_dates(drop: Workspace, policy: Policy) -> None:
    ctx = service.context(drop, policy)
    match = service.find(ctx, {"customer_id": ["C10"]})
    assert _found(drop, match) == {"crm": {"C10"}}
    assert not match.possible  # same name, other birth date: another person
    other = _snapshot(drop, "crm", "customer_id", {"C11"})
    _erase(ctx, {"customer_id": ["C10"]})
    assert _snapshot(drop, "crm", "customer_id", {"C11"}) == other


TYPO_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: signups, column: email, kind: email}
      - {table: signups, column: name, kind: name}
      - {table: signups, column: born, kind: birth_date}
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: full_name, kind: name}
      - {table: crm, column: birth_date, kind: birth_date}
tables:
  signups: {columns: {email: EMAIL_ADDRESS, name: PERSON, born: DATE_OF_BIRTH}}
  crm: {columns: {customer_id: {category: user.unique_id}, email: EMAIL_ADDRESS,
                  full_name: PERSON, birth_date: DATE_OF_BIRTH}}
"""


def _typos(word: str) -> list[str]:
    """A substitution, a deletion and a swap with the next letter at every position."""
    out = []
    for i in range(len(word)):
        out.append(word[:i] + ("x" if word[i] != "x" else "y") + word[i + 1 :])
        out.append(word[:i] + word[i + 1 :])
        if i + 1 < len(word):
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return sorted(set(out) - {word})


@pytest.mark.parametrize(
    "variant",
    [
        *[f"Ana Higueras {t}" for t in _typos("Poza")],
        *[f"Ana {t} Poza" for t in _typos("Higueras")],
        "Higueras Poza Ana",  # swapped
        "Ana HiguerasPoza",  # merged
        "Ana Higue Ras Poza",  # split
        "ANA HIGÜERAS POZA",  # case and accents
    ],
)
def test_typo_anywhere_in_the_name_is_a_possible_match(
    workspace: Workspace, tmp_path: Path, variant: str
) -> None:
    policy = _policy(tmp_path, TYPO_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE signups (email VARCHAR, name VARCHAR, born VARCHAR)")
    con.execute("INSERT INTO signups VALUES ('ana.h@example.com', ?, '1975-02-14')", [variant])
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('C1', 'ahp@example.net', 'Ana Higueras Poza', '14/02/1975'), "
        "('C2', 'ana.p@example.net', 'Ana Pérez Poza', '1980-03-03'), "
        "('C3', 'h@example.net', 'Ana Higueras Poza', '1990-12-12')"
        ") t(customer_id, email, full_name, birth_date)"
    )
    match = service.find(service.context(workspace, policy), {"email": ["ana.h@example.com"]})
    refs = {p.row_ref: p for p in match.possible}
    assert set(refs) == {"customer_id=C1"}, (variant, [p.to_dict() for p in match.possible])
    assert "birth date matches" in refs["customer_id=C1"].evidence
    assert "C1" not in str(refs["customer_id=C1"].masked)


def test_common_name_alone_is_not_evidence(workspace: Workspace, tmp_path: Path) -> None:
    """Forty namesakes in the CRM and no corroboration: nothing to review."""
    policy = _policy(tmp_path, TYPO_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE signups (email VARCHAR, name VARCHAR, born VARCHAR)")
    con.execute("INSERT INTO signups VALUES ('maria@example.com', 'Maria Garcia', NULL)")
    con.execute(
        "CREATE TABLE crm AS SELECT 'C' || i AS customer_id, 'm' || i || '@example.net' AS "
        "email, 'Maria Garcia' AS full_name, '1970-01-01' AS birth_date FROM range(40) t(i)"
    )
    match = service.find(service.context(workspace, policy), {"email": ["maria@example.com"]})
    assert match.possible == []


def test_review_decisions_are_used_by_the_next_run(
    drop: Workspace, cli: Cli, policy_file: Path, tmp_path: Path
) -> None:
    """Núria's call from the shared landline is for a human: confirmed, the next run of the
    same request erases it; rejected rows are never listed again for that request."""
    drop.close()
    args = ["-p", str(policy_file), "--request-id", "REQ-N1", "--out", str(tmp_path / "c")]
    first = cli("erase", "--email", "nuria.casals@example.cat", "--apply", *args,
                "--format", "json")  # fmt: skip
    assert first.exit_code == 0, first.stderr
    listed = cli("review", "list", "REQ-N1", "--format", "json")
    items = {i["row"]: i for i in json_out(listed)["items"]}
    # Pau's orders and call (his name, his e-mail) are not even listed; the landline-only
    # order (no name, no e-mail) and Núria's own call are
    assert set(items) == {"ticket_id=T4", "order_id=O7"}
    assert "name matches the person's" in items["ticket_id=T4"]["evidence"]
    assert "933112233" not in listed.stdout and "Núria" not in listed.stdout
    t4, o7 = items["ticket_id=T4"]["item"], items["order_id=O7"]["item"]
    assert cli("review", "confirm", "REQ-N1", str(t4), "--note", "her voice").exit_code == 0
    assert cli("review", "reject", "REQ-N1", str(o7)).exit_code == 0
    again = cli("erase", "--email", "nuria.casals@example.cat", "--apply", *args,
                "--format", "json")  # fmt: skip
    assert again.exit_code == 0, again.stderr
    cert = json_out(again)["certificate"]
    assert cert["confirmed_by_review"] == {"tickets": 1}
    assert cert["possible_matches_for_review"] == 0
    ws = Workspace.open(drop.root)
    try:
        left = {r[0] for r in ws.con.execute("SELECT ticket_id FROM tickets").fetchall()}
        assert "T4" not in left and "T5" in left  # hers erased, Pau's untouched
        assert ws.con.execute("SELECT count(*) FROM orders WHERE order_id = 'O7'").fetchone()
    finally:
        ws.close()
    assert cli("review", "list", "REQ-N1", "--format", "json").stdout.count('"item"') == 0
    assert cli("audit", "verify").exit_code == 0


def test_confirming_an_item_whose_row_is_gone_says_so(
    drop: Workspace, cli: Cli, policy_file: Path, tmp_path: Path
) -> None:
    """An open item whose row was erased since it was found (by another request of the
    same batch, say) is shown as such, and confirming it says the decision applies to
    nothing."""
    drop.close()
    args = ["-p", str(policy_file), "--request-id", "REQ-N1", "--out", str(tmp_path / "c")]
    first = cli("erase", "--email", "nuria.casals@example.cat", *args)
    assert first.exit_code == 0, first.stderr
    items = {i["row"]: i for i in json_out(cli("review", "list", "REQ-N1", "-f", "json"))["items"]}
    assert {i["row_unchanged"] for i in items.values()} == {True}
    ws = Workspace.open(drop.root)
    try:
        ws.con.execute("DELETE FROM tickets WHERE ticket_id = 'T4'")
    finally:
        ws.close()
    listed = json_out(cli("review", "list", "REQ-N1", "-f", "json"))["items"]
    held = {i["row"]: i["row_unchanged"] for i in listed}
    assert held == {"ticket_id=T4": False, "order_id=O7": True}
    t4, o7 = items["ticket_id=T4"]["item"], items["order_id=O7"]["item"]
    done = cli("review", "confirm", "REQ-N1", str(t4), str(o7))
    assert done.exit_code == 0, done.stderr
    assert f"item {t4} (tickets ticket_id=T4): the row was erased or changed" in done.stderr
    assert f"item {o7} " not in done.stderr


def test_policy_check_reports_a_unique_link_that_is_shared(
    drop: Workspace, cli: Cli, policy_file: Path
) -> None:
    drop.close()
    text = policy_file.read_text(encoding="utf-8").replace(
        "      - {table: crm, column: email, kind: email}",
        "      - {table: crm, column: email, kind: email, unique: true}",
    )
    policy_file.write_text(text, encoding="utf-8")
    done = cli("policy", "check", "-p", str(policy_file), "--format", "json")
    found = [f for f in json_out(done)["findings"] if f["rule"] == "unique-link-shared"]
    assert len(found) == 1, done.stdout
    assert found[0]["table"] == "crm" and found[0]["column"] == "email"
    assert found[0]["count"] == 1  # the Rovira family address, on two customer ids
    assert "family.rovira" not in done.stdout


@pytest.mark.parametrize(
    ("born", "listed"),
    [
        ("1975-02-15", True),  # a day off: a typo
        ("1957-02-14", False),  # two digits wrong: another person of the same name
    ],
)
def test_birth_date_typo_is_weak_corroboration(
    workspace: Workspace, tmp_path: Path, born: str, listed: bool
) -> None:
    policy = _policy(tmp_path, TYPO_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE signups (email VARCHAR, name VARCHAR, born VARCHAR)")
    con.execute("INSERT INTO signups VALUES ('ana.h@example.com', 'Ana Higueras Poza', ?)", [born])
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('C1', 'ahp@example.net', 'Ana Higueras Poza', '14/02/1975')"
        ") t(customer_id, email, full_name, birth_date)"
    )
    match = service.find(service.context(workspace, policy), {"email": ["ana.h@example.com"]})
    assert bool(match.possible) is listed, [p.to_dict() for p in match.possible]
    if listed:
        assert "birth date nearly matches (a typo?)" in match.possible[0].evidence


def test_date_typo_rules() -> None:
    from tutela.subjects.names import date_typo

    assert date_typo("1975-02-14", "1975-02-15")  # a day apart
    assert date_typo("1975-02-04", "1975-04-02")  # day and month swapped
    assert date_typo("1975-02-14", "1976-02-14")  # one digit
    assert not date_typo("1975-02-14", "1957-02-14")  # two digits
    assert not date_typo("1975-02-14", "1980-06-30")


PHONE_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: signups, column: email, kind: email}
      - {table: signups, column: name, kind: name}
      - {table: signups, column: phone, kind: phone, region: ES}
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: full_name, kind: name}
      - {table: crm, column: phone, kind: phone, region: ES}
tables:
  signups: {columns: {email: EMAIL_ADDRESS, name: PERSON, phone: PHONE_NUMBER}}
  crm: {columns: {customer_id: {category: user.unique_id}, full_name: PERSON,
                  phone: PHONE_NUMBER}}
"""


def test_partial_phone_corroborates_in_a_large_batch(workspace: Workspace, tmp_path: Path) -> None:
    """A misspelt name and another number ending in the same four digits: a possible match,
    whether the request comes alone or in a batch of a hundred (many distinct endings)."""
    policy = _policy(tmp_path, PHONE_POLICY)
    con = workspace.con
    first = ["Ana", "Pau", "Laia", "Marc", "Eva", "Joan", "Nuria", "Jordi", "Marta", "Pere"]
    last = ["Higueras", "Casals", "Rovira", "Vidal", "Serra", "Puig", "Ferrer", "Soler", "Mas",
            "Font"]  # fmt: skip
    people = [(f"{first[i % 10]} {last[i // 10]}", f"{i:04d}") for i in range(100)]
    con.execute("CREATE TABLE signups (email VARCHAR, name VARCHAR, phone VARCHAR)")
    con.execute("CREATE TABLE crm (customer_id VARCHAR, full_name VARCHAR, phone VARCHAR)")
    for i, (name, end) in enumerate(people):
        typo = name[:-2] + name[-1] + name[-2]  # the last two letters swapped
        con.execute("INSERT INTO signups VALUES (?, ?, ?)", [f"s{i}@example.com", typo,
                                                             f"+34 611 22{end}"])  # fmt: skip
        con.execute("INSERT INTO crm VALUES (?, ?, ?)", [f"C{i}", name, f"+34 699 88{end}"])
    ctx = service.context(workspace, policy)
    requests = {f"R{i}": {"email": [f"s{i}@example.com"]} for i in range(100)}
    batch = service._find_reviewed(ctx, requests)
    alone = service.find(ctx, {"email": ["s7@example.com"]})
    for req, match in [*batch.items(), ("R7", alone)]:
        crm = [p for p in match.possible if p.table == "crm"]
        assert [p.row_ref for p in crm] == [f"customer_id=C{req[1:]}"], (req, crm)
        assert "same last 4 phone digits" in crm[0].evidence
        assert not match.rows.get("crm")  # never certain


@pytest.mark.parametrize("split", ["\u00a0", "+", "\r"])
def test_partial_phone_split_oddly_is_offered_alone_as_in_a_batch(
    workspace: Workspace, tmp_path: Path, split: str
) -> None:
    """A namesake's number whose last four digits are split by a no-break space, a stray
    '+' or a carriage return: offered for review when the person is searched alone, as
    in a batch (alone, only the usual separators were read between the digits)."""
    policy = _policy(tmp_path, PHONE_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE signups (email VARCHAR, name VARCHAR, phone VARCHAR)")
    con.execute("CREATE TABLE crm (customer_id VARCHAR, full_name VARCHAR, phone VARCHAR)")
    for i in range(100):
        end = f"{i:04d}"
        name = f"Persona{chr(65 + i % 26)}{chr(65 + i // 26)} Ejemplo"
        typo = name[:-2] + name[-1] + name[-2]
        con.execute(
            "INSERT INTO signups VALUES (?, ?, ?)", [f"s{i}@example.com", typo, f"611 22{end}"]
        )
        con.execute(
            "INSERT INTO crm VALUES (?, ?, ?)", [f"C{i}", name, f"699 88{end[:2]}{split}{end[2:]}"]
        )
    ctx = service.context(workspace, policy)
    requests = {f"R{i}": {"email": [f"s{i}@example.com"]} for i in range(100)}
    batch = service._find_reviewed(ctx, requests)
    alone = service.find(ctx, {"email": ["s7@example.com"]})
    for req, match in [("R7", batch["R7"]), ("R7", alone)]:
        crm = [p for p in match.possible if p.table == "crm"]
        assert [p.row_ref for p in crm] == [f"customer_id=C{req[1:]}"], (req, crm)
        assert not match.rows.get("crm")  # never certain


FAMILY_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: full_name, kind: name}
      - {table: newsletter, column: email, kind: email}
%s
tables:
  crm: {columns: {customer_id: {category: user.unique_id}, email: EMAIL_ADDRESS,
                  full_name: PERSON}}
  newsletter: {columns: {subscriber_id: not_personal, email: EMAIL_ADDRESS,
                         first_name: {entity: PERSON, category: user.name.first}}}
"""


@pytest.mark.parametrize("declared", [False, True], ids=["name-column-in-tables", "name-link"])
def test_family_email_one_customer_two_subscribers(
    workspace: Workspace, tmp_path: Path, declared: bool
) -> None:
    """Only Sara is a customer, but the newsletter has her and Marc under the family address:
    the address is shared, whether or not the policy lists the first name as a link."""
    link = "      - {table: newsletter, column: first_name, kind: name}" if declared else ""
    policy = _policy(tmp_path, FAMILY_POLICY % link)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('C1', 'familia.poza@example.cat', "
        "'Sara Poza Roca'), ('C2', 'joan@example.cat', 'Joan Vidal')) t(customer_id, email, "
        "full_name)"
    )
    con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES "
        "('N1', 'familia.poza@example.cat', 'Sara'), ('N2', 'familia.poza@example.cat', 'Marc'), "
        "('N3', 'joan@example.cat', 'Joan')) t(subscriber_id, email, first_name)"
    )
    ctx = service.context(workspace, policy)
    sara = service.find(ctx, {"customer_id": ["C1"]})
    assert _ids(workspace, "newsletter", sara.rows.get("newsletter", [])) == set()
    assert {p.row_ref for p in sara.possible} == {"subscriber_id=N1", "subscriber_id=N2"}
    assert any(h.kind == "email" for h in sara.held_back)
    marc = _snapshot(workspace, "newsletter", "subscriber_id", {"N2"})
    _erase(ctx, {"customer_id": ["C1"]})
    assert _snapshot(workspace, "newsletter", "subscriber_id", {"N2"}) == marc
    # a subscriber alone under an address, with the customer's given name: certain
    joan = service.find(ctx, {"customer_id": ["C2"]})
    assert _ids(workspace, "newsletter", joan.rows.get("newsletter", [])) == {"N3"}


LINE_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: full_name, kind: name}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: iban, kind: iban}
      - {table: tickets, column: caller, kind: phone, region: ES}
      - {table: tickets, column: caller_name, kind: name}
tables:
  crm: {columns: {customer_id: {category: user.unique_id}, full_name: PERSON,
                  phone: PHONE_NUMBER}}
  orders: {columns: {order_id: not_personal, phone: PHONE_NUMBER, iban: IBAN_CODE}}
  tickets: {columns: {ticket_id: not_personal, caller: PHONE_NUMBER, caller_name: PERSON}}
"""


def test_landline_rows_that_name_nobody_are_possible_matches(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A household landline is the father's in the CRM; an order placed from it that names
    nobody (his son's, with the son's IBAN) is not the father's for certain, and its IBAN is
    not followed. The same from his mobile is his. A call from the landline by `Josep Pujol
    Roca` is not the father's (`Josep Pujol Poza`), although the names look alike."""
    policy = _policy(tmp_path, LINE_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('C1', 'Josep Pujol Poza', '+34 933 933 842'), ('C2', 'Marta Serra', '612 975 704')"
        ") t(customer_id, full_name, phone)"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM (VALUES "
        "('O1', '933933842', 'ES26 2100 9316 6099 5077 0972'), "
        "('O2', NULL, 'ES26 2100 9316 6099 5077 0972'), "
        "('O3', '+34 612975704', NULL)) t(order_id, phone, iban)"
    )
    con.execute("CREATE TABLE tickets (ticket_id VARCHAR, caller VARCHAR, caller_name VARCHAR)")
    ctx = service.context(workspace, policy)
    father = service.find(ctx, {"customer_id": ["C1"]})
    assert _found(workspace, father) == {"crm": {"C1"}}
    refs = {p.row_ref: p for p in father.possible}
    assert "a household shares" in refs["order_id=O1"].reason
    assert "order_id=O2" not in refs  # the son's IBAN was not followed
    marta = service.find(ctx, {"customer_id": ["C2"]})  # a mobile number is one person's
    assert _found(workspace, marta) == {"crm": {"C2"}, "orders": {"O3"}}
    # two calls from the line: the names tell two people apart, so both go to a reviewer
    con.execute(
        "INSERT INTO tickets VALUES ('T1', '+34 933933842', 'Josep Pujol Roca'), "
        "('T2', '+34 933933842', 'Josep Pujol Poza')"
    )
    father = service.find(ctx, {"customer_id": ["C1"]})
    assert _found(workspace, father) == {"crm": {"C1"}}
    refs = {p.row_ref: p for p in father.possible}
    assert "carried on rows with 2 different names" in refs["ticket_id=T1"].reason
    assert any("matches the person's" in e for e in refs["ticket_id=T2"].evidence)
    before = _snapshot(workspace, "orders", "order_id", {"O1", "O2"})
    tickets = _snapshot(workspace, "tickets", "ticket_id", {"T1", "T2"})
    _erase(ctx, {"customer_id": ["C1"]})
    assert _snapshot(workspace, "orders", "order_id", {"O1", "O2"}) == before
    assert _snapshot(workspace, "tickets", "ticket_id", {"T1", "T2"}) == tickets


def test_name_agreement_and_landline_rules() -> None:
    import duckdb

    from tutela.subjects.identity import _NAME_MACROS, is_landline

    con = duckdb.connect()
    for sql in _NAME_MACROS:
        con.execute(sql)

    def alike(a: str, b: str) -> bool:
        return bool(con.execute("SELECT _names_alike(?, ?)", [a, b]).fetchone()[0])  # type: ignore[index]

    assert alike("sara pooza roca", "sara poza roca")  # a slip inside a middle word
    assert alike("anna puig", "anna puig i ferrer")
    assert not alike("joan soler", "joana soler")  # another given name
    assert not alike("soler joan", "soler joana")  # ...also when it comes last
    assert not alike("josep pujol poza", "josep pujol roca")  # father and son
    assert is_landline("933933842", "34") and not is_landline("612975704", "34")
    assert is_landline("612345678", "39")  # +39 06 1234 5678: the 0 belongs to the number
    assert not is_landline("3401234567", "39")  # an Italian mobile
    assert is_landline("2079460000", "44") and not is_landline("7700900123", "44")


def test_identifiers_of_two_people_hold_back_the_texts_they_mention(
    drop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    """A request naming Jordi's e-mail and Oriol's customer id: whose is which is for a
    human. The tickets whose notes mention Jordi's address are possible matches: not in the
    access report, not redacted by the erasure, and not residue after it."""
    ctx = service.context(drop, policy)
    ids = {"email": ["jordi.vell@example.com"], "customer_id": ["C6"]}
    match = service.find(ctx, ids)
    assert not match.rows and not match.free_text
    held = {p.row_ref for p in match.possible if p.table == "tickets"}
    assert held == {"ticket_id=T1", "ticket_id=T3"}
    report = service.access_reports(ctx, {"R": ids}, tmp_path / "sar")["R"]["report"]
    assert report["summary"]["rows"] == 0 and report["summary"]["free_text_mentions"] == 0
    notes = drop.con.execute("SELECT ticket_id, notes FROM tickets ORDER BY ALL").fetchall()
    cert = _erase(ctx, ids)
    assert cert["free_text_redactions"] == 0
    assert cert["verification"]["ok"] is True, cert["verification"]
    assert drop.con.execute("SELECT ticket_id, notes FROM tickets ORDER BY ALL").fetchall() == notes


def test_a_reviewed_request_id_is_refused_for_another_persons_identifiers(
    drop: Workspace, cli: Cli, policy_file: Path, tmp_path: Path
) -> None:
    """Núria's landline call, confirmed as hers under REQ-N1, is never reported or erased
    for Pau because someone reused REQ-N1 for his identifiers: the command is refused."""
    drop.close()
    args = ["-p", str(policy_file), "--request-id", "REQ-N1", "--out", str(tmp_path / "c")]
    plan = cli("erase", "--email", "nuria.casals@example.cat", "--dry-run", *args)
    assert plan.exit_code == 0, plan.stderr
    items = {i["row"]: i["item"] for i in json_out(cli(
        "review", "list", "REQ-N1", "--format", "json"))["items"]}  # fmt: skip
    assert cli("review", "confirm", "REQ-N1", str(items["ticket_id=T4"])).exit_code == 0
    for command in ("sar", "erase"):
        other = cli(command, "--email", "pau.casals@example.cat", *args, "--format", "json")
        assert other.exit_code == 2, other.stdout
        assert "error[usage]: request id 'REQ-N1' was reviewed" in other.stderr
    ws = Workspace.open(drop.root)
    try:
        assert ws.con.execute("SELECT count(*) FROM tickets WHERE ticket_id = 'T4'").fetchone()
    finally:
        ws.close()
    same = cli("sar", "--email", "nuria.casals@example.cat", *args, "--format", "json")
    assert same.exit_code == 0, same.stderr  # her own identifiers: her decisions apply


def test_ctrl_c_after_the_erasure_committed_says_it_was_committed(
    drop: Workspace, cli: Cli, policy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the file rewrite that follows the commit: the message says the erasure
    stands (audited) and how to finish, never that nothing was committed."""
    from tutela.subjects import physical

    def interrupted(ws: Workspace) -> None:
        raise KeyboardInterrupt

    drop.close()
    monkeypatch.setattr(physical, "purge_workspace", interrupted)
    args = ["--email", "oriol.vidal@example.com", "-p", str(policy_file), "-o", str(tmp_path)]
    result = cli("erase", *args, "--apply")
    assert result.exit_code == 130, result.output
    assert "interrupted after the erasure was committed and audited (entry #" in result.stderr
    assert "nothing was committed" not in result.stderr
    monkeypatch.undo()
    assert "with --request-id ERASE-" in result.stderr
    again = cli("erase", *args, "--apply", "--request-id", "R-again", "--format", "json")
    assert again.exit_code == 0, again.output
    assert json_out(again)["certificate"]["found"] is False  # his rows are gone already
