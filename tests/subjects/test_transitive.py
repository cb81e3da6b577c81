"""Never across people, through a chain: a row reached only through a phone, a device or a
cookie of the person, that also carries an identifier belonging to someone else, links two
people. It is a possible match for each of them, never certain, and nothing is followed
from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import json_out
from tutela.policy.loader import load_policy
from tutela.policy.models import Policy
from tutela.subjects import service
from tutela.subjects.find import find_subjects
from tutela.subjects.links import SearchSpace
from tutela.workspace import Workspace

Cli = Callable[..., Result]

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: name, kind: name}
      - {table: newsletter, column: email, kind: email}
      - {table: newsletter, column: mobile, kind: phone, region: ES}
      - {table: newsletter, column: alt_email, kind: email}
      - {table: payments, column: customer_id, kind: customer_id}
      - {table: payments, column: iban, kind: iban}
      - {table: payments, column: email, kind: email}
      - {table: calls, column: customer_id, kind: customer_id}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: device_id, kind: device_id}
      - {table: app, column: customer_id, kind: customer_id}
      - {table: app, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}, email: {}, name: {}}}
  newsletter: {columns: {subscriber_id: {}, email: {}, mobile: {}, alt_email: {}}}
  payments: {columns: {payment_id: {}, customer_id: {}, iban: {}, email: {}}}
  calls: {columns: {call_id: {}, customer_id: {}, phone: {}}}
  web: {columns: {event_id: {}, customer_id: {}, cookie_id: {}, device_id: {}}}
  app: {columns: {session_id: {}, customer_id: {}, device_id: {}}}
erasure:
  default: delete
"""

KEYS = {"crm": "customer_id", "newsletter": "subscriber_id", "calls": "call_id",
        "web": "event_id", "app": "session_id", "contacts": "contact_id",
        "payments": "payment_id", "signups": "signup_id", "tickets": "ticket_id",
        "orders": "order_id", "profiles": "profile_id", "logins": "login_id",
        "households": "household_id", "accounts": "acct_id", "shop": "order_id"}  # fmt: skip


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return _load(tmp_path, POLICY)


def _load(tmp_path: Path, text: str) -> Policy:
    """The policy `text`, written to a file and loaded as the CLI loads it."""
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path).policy


@pytest.fixture
def drop(workspace: Workspace) -> Workspace:
    """Alba (A100) and Bruno (B200). Alba's newsletter row N1 carries a mobile that Bruno's
    call K1 carries too (and a second address of hers, found nowhere else: it vouches for
    nothing); the web event E2 has Alba's cookie and the device of Bruno's app; the payment
    P1 is made with Alba's e-mail from Bruno's bank account (a joint account)."""
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('A100', 'alba.ruiz@example.com', "
        "'Alba Ruiz'), ('B200', NULL, 'Bruno Sala')) t(customer_id, email, name)"
    )
    con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES ('N1', 'alba.ruiz@example.com', "
        "'+34 612 000 111', 'alba.r@work.example')) t(subscriber_id, email, mobile, alt_email)"
    )
    con.execute(
        "CREATE TABLE payments AS SELECT * FROM (VALUES "
        "('P0', 'B200', 'ES9121000418450200051332', NULL), "
        "('P1', NULL, 'ES91 2100 0418 4502 0005 1332', 'alba.ruiz@example.com')) "
        "t(payment_id, customer_id, iban, email)"
    )
    con.execute(
        "CREATE TABLE calls AS SELECT * FROM (VALUES ('K1', 'B200', '612000111')) "
        "t(call_id, customer_id, phone)"
    )
    con.execute(
        "CREATE TABLE web AS SELECT * FROM (VALUES ('E1', 'A100', 'ck-aaaa-1111', NULL), "
        "('E2', NULL, 'ck-aaaa-1111', 'dev-7f3e-0001')) t(event_id, customer_id, cookie_id, "
        "device_id)"
    )
    con.execute(
        "CREATE TABLE app AS SELECT * FROM (VALUES ('O1', 'B200', 'dev-7f3e-0001')) "
        "t(session_id, customer_id, device_id)"
    )
    return workspace


ALBA = {"crm": {"A100"}, "newsletter": {"N1"}, "web": {"E1"}, "payments": {"P1"}}
BRUNO = {"crm": {"B200"}, "calls": {"K1"}, "app": {"O1"}, "payments": {"P0"}}


def _ids(ws: Workspace, table: str, rowids: list[int]) -> set[str]:
    key = KEYS[table]
    rows = ws.con.execute(
        f'SELECT "{key}" FROM "{table}" WHERE rowid IN (SELECT UNNEST(?::BIGINT[]))', [rowids]
    ).fetchall()
    return {str(r[0]) for r in rows}


def _found(ws: Workspace, match: service.SubjectMatch) -> dict[str, set[str]]:
    return {t: _ids(ws, t, rids) for t, rids in match.rows.items() if rids}


def _possible(ws: Workspace, match: service.SubjectMatch) -> set[tuple[str, str]]:
    return {(p.table, i) for p in match.possible for i in _ids(ws, p.table, [p.rowid])}


def test_a_row_linking_two_people_is_certain_for_neither(drop: Workspace, policy: Policy) -> None:
    ctx = service.context(drop, policy)
    alba = service.find(ctx, {"customer_id": ["A100"]})
    assert _found(drop, alba) == ALBA
    assert _possible(drop, alba) == {("web", "E2")}
    bruno = service.find(ctx, {"customer_id": ["B200"]})
    assert _found(drop, bruno) == BRUNO
    assert _possible(drop, bruno) == {("newsletter", "N1"), ("web", "E2"), ("payments", "P1")}
    reasons = {p.table: p.reason for p in bruno.possible}
    assert "another person" in reasons["newsletter"], reasons


def test_the_same_in_one_batch(drop: Workspace, policy: Policy) -> None:
    """Both people in one batch, with a third request by the shared mobile alone."""
    ctx = service.context(drop, policy)
    found = find_subjects(
        drop,
        ctx.space,
        {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]},
         "m": {"phone": ["612 000 111"]}},
    )  # fmt: skip
    assert _found(drop, found["a"]) == ALBA
    assert _found(drop, found["b"]) == BRUNO
    assert _found(drop, found["m"]) == {}  # the mobile leads to both: for a human


def test_a_shared_phone_given_alone_is_for_a_human(drop: Workspace, policy: Policy) -> None:
    """Given only the mobile that Alba's sign-up and Bruno's call both carry, the data cannot
    say who asked: nothing is certain, every row reached is a possible match."""
    ctx = service.context(drop, policy)
    mobile = service.find(ctx, {"phone": ["612 000 111"]})
    assert _found(drop, mobile) == {}
    possible = _possible(drop, mobile)
    assert {("newsletter", "N1"), ("calls", "K1"), ("crm", "A100"), ("crm", "B200")} <= possible
    # one identifier was given: the reason says which, not "the identifiers given"
    assert all("the phone given leads to different people" in p.reason for p in mobile.possible)
    # an e-mail given too that no row carries says nothing of who asked
    unknown = service.find(ctx, {"phone": ["612 000 111"], "email": ["alba.new@example.org"]})
    assert _found(drop, unknown) == {}
    assert all("the identifiers given lead to" in p.reason for p in unknown.possible)


def test_erasing_one_leaves_the_linking_rows(drop: Workspace, policy: Policy) -> None:
    ctx = service.context(drop, policy)
    before = {t: drop.con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
              for t in ("newsletter", "web")}  # fmt: skip
    p1 = drop.con.execute("SELECT * FROM payments WHERE payment_id = 'P1'").fetchall()
    clean, plans = service.plan_erasures(ctx, {"E": {"customer_id": ["B200"]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    assert cert["verification"]["ok"], cert["verification"]
    for table, rows in before.items():
        assert drop.con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall() == rows
    assert drop.con.execute("SELECT * FROM payments WHERE payment_id = 'P1'").fetchall() == p1
    left = {r[0] for r in drop.con.execute("SELECT customer_id FROM crm").fetchall()}
    assert left == {"A100"}


LIST_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: name, kind: name}
      - {table: contacts, column: emails, kind: email}
tables:
  crm: {columns: {customer_id: {}, email: {}, name: {}}}
  contacts: {columns: {contact_id: {}, emails: {}}}
erasure:
  default: delete
"""


def test_a_list_of_two_peoples_addresses_is_certain_for_neither(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A JSON export's list of e-mails: two customers' addresses in one list is a possible
    match for each (as the same addresses in one text are); one person's two addresses,
    hers."""
    policy = _load(tmp_path, LIST_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('A100', 'alba.ruiz@example.com', "
        "'Alba Ruiz'), ('B200', 'bruno.sala@example.com', 'Bruno Sala')) t(customer_id, email, "
        "name)"
    )
    con.execute("CREATE TABLE contacts (contact_id VARCHAR, emails VARCHAR[])")
    con.execute(
        "INSERT INTO contacts VALUES ('L1', ['alba.ruiz@example.com', 'bruno.sala@example.com']), "
        "('L2', ['alba.ruiz@example.com', 'alba@home.example.org'])"
    )
    ctx = service.context(workspace, policy)
    alba = service.find(ctx, {"customer_id": ["A100"]})
    assert _found(workspace, alba) == {"crm": {"A100"}, "contacts": {"L2"}}
    assert _possible(workspace, alba) == {("contacts", "L1")}
    bruno = service.find(ctx, {"customer_id": ["B200"]})
    assert _found(workspace, bruno) == {"crm": {"B200"}}
    assert ("contacts", "L1") in _possible(workspace, bruno)


HOPS_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: calls, column: customer_id, kind: customer_id}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: signups, column: mobile, kind: phone, region: ES}
      - {table: signups, column: cookie_id, kind: cookie_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: email, kind: email}
tables:
  crm: {columns: {customer_id: {}, email: {}}}
  calls: {columns: {call_id: {}, customer_id: {}, phone: {}}}
  signups: {columns: {signup_id: {}, mobile: {}, cookie_id: {}}}
  web: {columns: {event_id: {}, cookie_id: {}, email: {}}}
erasure:
  default: delete
"""


def test_a_row_two_hops_from_another_person_is_certain_for_neither(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Bruno's call gives his mobile; a sign-up S1 carries that mobile and a browser cookie;
    the only other row with the cookie is Alba's web event, with her e-mail. S1 links the
    two (one browser, two people): a possible match for each, certain for neither."""
    policy = _load(tmp_path, HOPS_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('A100', 'alba.ruiz@example.com'), "
        "('B200', NULL)) t(customer_id, email)"
    )
    con.execute(
        "CREATE TABLE calls AS SELECT * FROM (VALUES ('K1', 'B200', '612000111')) "
        "t(call_id, customer_id, phone)"
    )
    con.execute(
        "CREATE TABLE signups AS SELECT * FROM (VALUES ('S1', '+34 612 000 111', "
        "'ck-aaaa-1111')) t(signup_id, mobile, cookie_id)"
    )
    con.execute(
        "CREATE TABLE web AS SELECT * FROM (VALUES ('W1', 'ck-aaaa-1111', "
        "'alba.ruiz@example.com')) t(event_id, cookie_id, email)"
    )
    ctx = service.context(workspace, policy)
    bruno = service.find(ctx, {"customer_id": ["B200"]})
    assert _found(workspace, bruno) == {"crm": {"B200"}, "calls": {"K1"}}
    assert ("signups", "S1") in _possible(workspace, bruno)
    alba = service.find(ctx, {"customer_id": ["A100"]})
    assert _found(workspace, alba) == {"crm": {"A100"}, "web": {"W1"}}
    assert ("signups", "S1") in _possible(workspace, alba)


PERIOD_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: phone, kind: phone, region: ES,
         valid_from: phone_since, valid_until: phone_until}
      - {table: tickets, column: caller, kind: phone, region: ES, observed_at: opened_at}
      - {table: tickets, column: device_id, kind: device_id}
      - {table: app, column: customer_id, kind: customer_id}
      - {table: app, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}, phone: {}, phone_since: {}, phone_until: {}}}
  tickets: {columns: {ticket_id: {}, caller: {}, opened_at: {}, device_id: {}}}
  app: {columns: {session_id: {}, customer_id: {}, device_id: {}}}
erasure:
  default: delete
"""


def test_a_row_attributed_by_period_that_links_two_people_is_a_question(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Jordi held 666 777 888 until 2024, Eva since. A ticket from that number in 2020 is
    Jordi's; another, with the device of Bruno's app session, links Jordi and Bruno: a
    possible match for Jordi, certain for no one, and still nothing of Eva's. One from
    2025 (Eva's number then) with the device of Jordi's app links Jordi and Eva."""
    policy = _load(tmp_path, PERIOD_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('C8', '666 777 888', DATE '2015-01-01', DATE '2024-03-01'), "
        "('C9', '666 777 888', DATE '2024-03-01', NULL), ('B200', NULL, NULL, NULL)) "
        "t(customer_id, phone, phone_since, phone_until)"
    )
    con.execute(
        "CREATE TABLE tickets AS SELECT * FROM (VALUES "
        "('T1', '666777888', TIMESTAMP '2020-05-01 10:00', 'dev-bruno-0001'), "
        "('T2', '666777888', TIMESTAMP '2020-06-01 10:00', NULL), "
        "('T3', '666777888', TIMESTAMP '2025-01-10 10:00', 'dev-jordi-0001')) "
        "t(ticket_id, caller, opened_at, device_id)"
    )
    con.execute(
        "CREATE TABLE app AS SELECT * FROM (VALUES ('S1', 'B200', 'dev-bruno-0001'), "
        "('S2', 'C8', 'dev-jordi-0001')) t(session_id, customer_id, device_id)"
    )
    ctx = service.context(workspace, policy)
    for together in (False, True):
        asked = {"jordi": {"customer_id": ["C8"]}, "eva": {"customer_id": ["C9"]}}
        if together:
            asked["bruno"] = {"customer_id": ["B200"]}
        found = find_subjects(workspace, ctx.space, asked)
        jordi = {"crm": {"C8"}, "tickets": {"T2"}, "app": {"S2"}}
        assert _found(workspace, found["jordi"]) == jordi
        assert {("tickets", "T1"), ("tickets", "T3")} <= _possible(workspace, found["jordi"])
        assert _found(workspace, found["eva"]) == {"crm": {"C9"}}
        assert ("tickets", "T3") in _possible(workspace, found["eva"])
        assert not {("tickets", "T1"), ("tickets", "T2")} & _possible(workspace, found["eva"])


TABLET_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: calls, column: customer_id, kind: customer_id}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: signups, column: mobile, kind: phone, region: ES}
      - {table: signups, column: cookie_id, kind: cookie_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: device_id, kind: device_id}
      - {table: app, column: customer_id, kind: customer_id}
      - {table: app, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}}}
  calls: {columns: {call_id: {}, customer_id: {}, phone: {}}}
  signups: {columns: {signup_id: {}, mobile: {}, cookie_id: {}}}
  web: {columns: {event_id: {}, cookie_id: {}, device_id: {}}}
  app: {columns: {session_id: {}, customer_id: {}, device_id: {}}}
erasure:
  default: delete
"""


def test_rows_behind_a_family_tablet_are_questions_never_lost(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's mobile is on a sign-up with a browser cookie; four web events carry that
    cookie, one of them also the family tablet that Bruno's app runs on. Whose the events
    are, a human decides: they are possible matches for Alba and for Bruno, never dropped
    from either's result unseen. Given only the cookie (it leads to both), the request is
    for a human whole."""
    policy = _load(tmp_path, TABLET_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT * FROM (VALUES ('A100'), ('B200')) t(customer_id)")
    con.execute(
        "CREATE TABLE calls AS SELECT * FROM (VALUES ('K1', 'A100', '612000111')) "
        "t(call_id, customer_id, phone)"
    )
    con.execute(
        "CREATE TABLE signups AS SELECT * FROM (VALUES ('S1', '+34 612 000 111', "
        "'ck-alba-0001')) t(signup_id, mobile, cookie_id)"
    )
    con.execute(
        "CREATE TABLE web AS SELECT 'E' || i AS event_id, 'ck-alba-0001' AS cookie_id, "
        "CASE WHEN i = 3 THEN 'dev-tabl-0001' END AS device_id FROM range(1, 5) r(i)"
    )
    con.execute(
        "CREATE TABLE app AS SELECT * FROM (VALUES ('O1', 'B200', 'dev-tabl-0001')) "
        "t(session_id, customer_id, device_id)"
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace,
        ctx.space,
        {"alba": {"customer_id": ["A100"]}, "bruno": {"customer_id": ["B200"]},
         "cookie": {"cookie_id": ["ck-alba-0001"]}},
    )  # fmt: skip
    events = {("web", f"E{i}") for i in range(1, 5)}
    assert _found(workspace, found["alba"]) == {"crm": {"A100"}, "calls": {"K1"}}
    assert events | {("signups", "S1")} <= _possible(workspace, found["alba"])
    assert _found(workspace, found["bruno"]) == {"crm": {"B200"}, "app": {"O1"}}
    assert events <= _possible(workspace, found["bruno"])
    assert _found(workspace, found["cookie"]) == {}
    assert events <= _possible(workspace, found["cookie"])


HOUSEHOLD_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: signups, column: email, kind: email}
      - {table: signups, column: mobile, kind: phone, region: ES}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: calls, column: device_id, kind: device_id}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: device_id, kind: device_id}
      - {table: web, column: email, kind: email}
      - {table: app, column: customer_id, kind: customer_id}
      - {table: app, column: device_id, kind: device_id}
      - {table: payments, column: customer_id, kind: customer_id}
      - {table: payments, column: iban, kind: iban}
      - {table: payments, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}, email: {}}}
  signups: {columns: {signup_id: {}, email: {}, mobile: {}}}
  calls: {columns: {call_id: {}, phone: {}, device_id: {}}}
  web: {columns: {event_id: {}, customer_id: {}, cookie_id: {}, device_id: {}, email: {}}}
  app: {columns: {session_id: {}, customer_id: {}, device_id: {}}}
  payments: {columns: {payment_id: {}, customer_id: {}, iban: {}, device_id: {}}}
erasure:
  default: delete
"""


def _household(
    workspace: Workspace,
    tmp_path: Path,
    web: str,
    calls: str = "",
    app: str = "",
    payments: str = "",
    signups: str = "",
) -> Policy:
    """Alba (A100) and Bruno (B200), each with an e-mail; her sign-up S0 with her mobile;
    the web events, calls, app sessions, payments and other sign-ups as given."""
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('A100', 'alba@example.com'), "
        "('B200', 'bruno@example.com')) t(customer_id, email)"
    )
    con.execute(
        "CREATE TABLE signups AS SELECT * FROM (VALUES ('S0', 'alba@example.com', "
        f"'+34 622 111 222'){', ' + signups if signups else ''}) t(signup_id, email, mobile)"
    )
    con.execute(
        "CREATE TABLE calls (call_id VARCHAR, phone VARCHAR, device_id VARCHAR); "
        + (f"INSERT INTO calls VALUES {calls}" if calls else "")
    )
    con.execute(
        "CREATE TABLE web (event_id VARCHAR, customer_id VARCHAR, cookie_id VARCHAR, "
        f"device_id VARCHAR, email VARCHAR); INSERT INTO web VALUES {web}"
    )
    con.execute(
        "CREATE TABLE app (session_id VARCHAR, customer_id VARCHAR, device_id VARCHAR); "
        + (f"INSERT INTO app VALUES {app}" if app else "")
    )
    con.execute(
        "CREATE TABLE payments (payment_id VARCHAR, customer_id VARCHAR, iban VARCHAR, "
        "device_id VARCHAR); " + (f"INSERT INTO payments VALUES {payments}" if payments else "")
    )
    return _load(tmp_path, HOUSEHOLD_POLICY)


def test_events_on_a_shared_tablet_do_not_vouch_for_each_other(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba logs in once (L1) with the family browser; two of its events (E3, E5) also carry
    the tablet that Bruno's app runs on. One such event was a question; two are not each
    other's proof: both stay possible matches for Alba and for Bruno."""
    events = ", ".join(
        f"('E{i}', NULL, 'ck-fami-0001', {repr('dev-tabl-0001') if i in (3, 5) else 'NULL'}, NULL)"
        for i in range(1, 6)
    )
    policy = _household(
        workspace,
        tmp_path,
        f"('L1', 'A100', 'ck-fami-0001', NULL, NULL), {events}",
        app="('O1', 'B200', 'dev-tabl-0001')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
    )
    tablet = {("web", "E3"), ("web", "E5")}
    assert _found(workspace, found["a"])["web"] == {"L1", "E1", "E2", "E4"}
    assert tablet <= _possible(workspace, found["a"])
    assert "web" not in _found(workspace, found["b"])
    assert tablet <= _possible(workspace, found["b"])


def test_a_row_held_as_someone_elses_links_like_a_bridge(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Bruno logged in once (E9: his e-mail) on the family browser; events E1-E3 carry its
    cookie and the tablet's device, from which Alba's call K7 came (her mobile, on her
    sign-up). K7 is held back for Bruno (the number is Alba's), and so the tablet events
    link Bruno to Alba: possible matches for both, certain for neither."""
    events = ", ".join(
        f"('E{i}', NULL, 'ck-fami-0001', 'dev-tabl-0001', NULL)" for i in range(1, 4)
    )
    policy = _household(
        workspace,
        tmp_path,
        f"{events}, ('E9', NULL, 'ck-fami-0001', NULL, 'bruno@example.com')",
        calls="('K7', '622111222', 'dev-tabl-0001')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
    )
    tablet = {("web", "E1"), ("web", "E2"), ("web", "E3")}
    assert _found(workspace, found["b"])["web"] == {"E9"}
    assert tablet <= _possible(workspace, found["b"])
    assert "web" not in _found(workspace, found["a"])
    assert tablet <= _possible(workspace, found["a"])
    assert _found(workspace, found["a"])["signups"] == {"S0"}


def test_one_who_cleared_her_cookies_keeps_her_events(workspace: Workspace, tmp_path: Path) -> None:
    """Alba logs in once (L1) and browses on her phone (E1-E4, the same cookie and the
    phone's device); later she clears her cookies (F1-F3: a new cookie, the same device).
    Nobody else is involved: her events stay certain, and the events under the new cookie
    are possible matches, not dropped."""
    old = ", ".join(f"('E{i}', NULL, 'ck-alba-0001', 'dev-alba-0001', NULL)" for i in range(1, 5))
    new = ", ".join(f"('F{i}', NULL, 'ck-alba-0002', 'dev-alba-0001', NULL)" for i in range(1, 4))
    policy = _household(
        workspace, tmp_path, f"('L1', 'A100', 'ck-alba-0001', NULL, NULL), {old}, {new}"
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})
    assert _found(workspace, found["a"])["web"] == {"L1", "E1", "E2", "E3", "E4"}
    assert _possible(workspace, found["a"]) == {("web", "F1"), ("web", "F2"), ("web", "F3")}


def _shared_tablet(workspace: Workspace, tmp_path: Path) -> Policy:
    """The family tablet: Bruno's app O1 runs on it, Alba's call K7 came from it (her
    mobile), events E1-E2 carry only the tablet and its browser's cookie."""
    return _household(
        workspace,
        tmp_path,
        "('E1', NULL, 'ck-fami-0001', 'dev-tabl-0001', NULL), "
        "('E2', NULL, 'ck-fami-0001', 'dev-tabl-0001', NULL)",
        calls="('K7', '622111222', 'dev-tabl-0001')",
        app="('O1', 'B200', 'dev-tabl-0001')",
    )


def test_a_tablet_her_call_and_his_app_share_is_neither_ones(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Bruno's app O1 runs on the family tablet; Alba's call K7 came from it (her mobile, on
    her sign-up). Events E1-E2 carry only the family cookie and the tablet: his app vouching
    for the tablet does not make them his, since her call shows she uses it too. Possible
    matches for both, certain for neither."""
    policy = _shared_tablet(workspace, tmp_path)
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
    )
    tablet = {("web", "E1"), ("web", "E2")}
    assert _found(workspace, found["b"])["app"] == {"O1"}
    assert "web" not in _found(workspace, found["b"])
    assert tablet <= _possible(workspace, found["b"])
    assert "web" not in _found(workspace, found["a"])
    assert tablet <= _possible(workspace, found["a"])


def test_her_browser_on_the_shared_tablet_stays_hers(workspace: Workspace, tmp_path: Path) -> None:
    """Alba logged in on the family tablet once (L1, her e-mail and her browser's cookie);
    Bruno's app O1 runs on it too. The tablet, which both use, says nothing of whose an
    event is: E1, with her browser's cookie, is hers; E2, with the tablet alone, is a
    possible match for both, certain for neither."""
    policy = _household(
        workspace,
        tmp_path,
        "('L1', NULL, 'ck-alba-0001', 'dev-tabl-0001', 'alba@example.com'), "
        "('E1', NULL, 'ck-alba-0001', 'dev-tabl-0001', NULL), "
        "('E2', NULL, NULL, 'dev-tabl-0001', NULL)",
        app="('O1', 'B200', 'dev-tabl-0001')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
    )
    assert _found(workspace, found["a"])["web"] == {"L1", "E1"}
    assert ("web", "E2") in _possible(workspace, found["a"])
    assert _found(workspace, found["b"])["app"] == {"O1"}
    assert "web" not in _found(workspace, found["b"])
    assert {("web", "E1"), ("web", "E2")} <= _possible(workspace, found["b"])


def test_a_tablet_two_people_use_given_alone_is_for_a_human(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A request that gives only the tablet's device id, or only the cookie of its browser:
    the tablet leads to Bruno (his app) and to Alba (her call from it, with her mobile).
    Which of them asked, the data cannot say: nothing is certain, all of it is for a human."""
    policy = _shared_tablet(workspace, tmp_path)
    ctx = service.context(workspace, policy)
    asked = {"d": {"device_id": ["dev-tabl-0001"]}, "c": {"cookie_id": ["ck-fami-0001"]}}
    for together in (False, True):
        found = (
            find_subjects(workspace, ctx.space, asked)
            if together
            else {r: find_subjects(workspace, ctx.space, {r: v})[r] for r, v in asked.items()}
        )
        for req in asked:
            assert _found(workspace, found[req]) == {}
            assert {("app", "O1"), ("calls", "K7"), ("web", "E1"), ("web", "E2")} <= _possible(
                workspace, found[req]
            )


def test_a_joint_account_on_her_phone_leaves_her_phone_hers(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's app O1 runs on her phone. Once she pays from it with the joint account that is
    registered to Bruno (P1: his payment P0 has the IBAN). That payment links the two, but
    a joint account shows nothing of who uses her phone: its events E1-E2 stay hers."""
    iban = "ES91 2100 0418 4502 0005 1332"
    policy = _household(
        workspace,
        tmp_path,
        "('E1', NULL, NULL, 'dev-alba-0001', NULL), ('E2', NULL, NULL, 'dev-alba-0001', NULL)",
        app="('O1', 'A100', 'dev-alba-0001')",
        payments=f"('P0', 'B200', '{iban}', NULL), ('P1', NULL, '{iban}', 'dev-alba-0001')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})
    assert _found(workspace, found["a"])["web"] == {"E1", "E2"}
    assert ("payments", "P1") in _possible(workspace, found["a"])


def test_her_browser_on_his_tablet_makes_the_tablet_shared(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba logged in with her browser (L1); events E1-E2 show that browser's cookie on the
    tablet that Bruno's app O1 runs on: she uses his tablet. Its event G1, with the tablet
    alone, is no longer certain for Bruno: a possible match for both."""
    policy = _household(
        workspace,
        tmp_path,
        "('L1', 'A100', 'ck-alba-0001', NULL, NULL), "
        "('E1', NULL, 'ck-alba-0001', 'dev-tabl-0001', NULL), "
        "('E2', NULL, 'ck-alba-0001', 'dev-tabl-0001', NULL), "
        "('G1', NULL, NULL, 'dev-tabl-0001', NULL)",
        app="('O1', 'B200', 'dev-tabl-0001')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
    )
    assert _found(workspace, found["b"]) == {"crm": {"B200"}, "app": {"O1"}}
    assert ("web", "G1") in _possible(workspace, found["b"])
    assert _found(workspace, found["a"])["web"] == {"L1"}
    assert ("web", "G1") in _possible(workspace, found["a"])


IP_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: web, column: customer_id, kind: customer_id}
      - {table: web, column: cookie_id, kind: cookie_id}
      - {table: web, column: device_id, kind: device_id}
      - {table: web, column: ip, kind: ip_address}
      - {table: web, column: phone, kind: phone, region: ES}
tables:
  crm: {columns: {customer_id: {}, email: {}, phone: {}}}
  web: {columns: {event_id: {}, customer_id: {}, cookie_id: {}, device_id: {}, ip: {}, phone: {}}}
erasure:
  default: delete
"""


@pytest.mark.parametrize("his", ["phone", "device_id"])
def test_the_home_ip_given_alone_is_for_a_human(
    workspace: Workspace, tmp_path: Path, his: str
) -> None:
    """A request that gives only the household's home IP: Alba logged in from it (L1), and
    an event from it (X1) carries Bruno's mobile, or the device of his own login (M9, from
    elsewhere). The IP leads to both; which of them asked is for a human: nothing is
    certain, not even the events with the IP alone (N1, N2)."""
    policy = _load(tmp_path, IP_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('A100', 'alba@example.com', NULL), "
        "('B200', 'bruno@example.com', '+34 633 444 555')) t(customer_id, email, phone)"
    )
    mark = {"phone": ("NULL", "'633444555'"), "device_id": ("'dev-brun-0001'", "NULL")}[his]
    con.execute(
        "CREATE TABLE web AS SELECT * FROM (VALUES "
        "('L1', 'A100', 'ck-alba-0001', 'dev-alba-0001', '81.33.10.20', NULL), "
        "('M9', 'B200', 'ck-brun-0001', 'dev-brun-0001', '10.9.9.9', NULL), "
        f"('X1', NULL, NULL, {mark[0]}, '81.33.10.20', {mark[1]}), "
        "('N1', NULL, NULL, NULL, '81.33.10.20', NULL), "
        "('N2', NULL, NULL, NULL, '81.33.10.20', NULL)) "
        "t(event_id, customer_id, cookie_id, device_id, ip, phone)"
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"h": {"ip_address": ["81.33.10.20"]}})
    assert _found(workspace, found["h"]) == {}
    assert {("web", e) for e in ("L1", "X1", "N1", "N2")} <= _possible(workspace, found["h"])


@pytest.mark.parametrize("address", ["alba@exmaple.com", "alba.ruiz@work.example"])
def test_her_login_with_another_address_on_her_phone_is_never_lost(
    workspace: Workspace, tmp_path: Path, address: str
) -> None:
    """Alba's app O1 runs on her phone; once she logged in on it (L2) with a mistyped or a
    second e-mail address that no other row carries. Nothing shows the address is someone
    else's: L2 is a possible match for her, shown with the address that differs, not
    dropped unseen. Bruno's
    login on her phone (L3, his address, which his record carries) is his: not hers even
    to review."""
    policy = _household(
        workspace,
        tmp_path,
        f"('L2', NULL, NULL, 'dev-alba-0001', '{address}'), "
        "('L3', NULL, NULL, 'dev-alba-0001', 'bruno@example.com'), "
        "('G1', NULL, NULL, 'dev-alba-0001', NULL)",
        app="('O1', 'A100', 'dev-alba-0001')",
    )
    ctx = service.context(workspace, policy)
    for found in (
        find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}}),
        find_subjects(
            workspace, ctx.space, {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]}}
        ),
    ):
        alba = found["a"]
        assert _found(workspace, alba)["app"] == {"O1"}
        possible = _possible(workspace, alba)
        assert ("web", "L2") in possible
        assert ("web", "L3") not in possible and "web" not in _found(workspace, alba)
        l2 = next(p for p in alba.possible if _ids(workspace, "web", [p.rowid]) == {"L2"})
        assert "e-mail address differs from the person's" in l2.evidence, l2


@pytest.mark.parametrize("zeroed", ["00000000-0000-0000-0000-000000000000", "02:00:00:00:00:00"])
def test_a_device_id_software_reports_for_every_phone_is_nobodys(
    workspace: Workspace, tmp_path: Path, zeroed: str
) -> None:
    """The app reports a zeroed advertising id (or Android's fixed MAC) for Alba's and
    Bruno's sessions, and for anonymous events E1-E2. It names no device: their sessions
    stay theirs, and the events are nobody's, not a question for either of them. A request
    giving that value alone finds nothing and says it is a placeholder."""
    policy = _household(
        workspace,
        tmp_path,
        f"('E1', NULL, NULL, '{zeroed}', NULL), ('E2', NULL, NULL, '{zeroed}', NULL)",
        app=f"('O1', 'A100', '{zeroed}'), ('O2', 'B200', '{zeroed}')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace,
        ctx.space,
        {"a": {"customer_id": ["A100"]}, "b": {"customer_id": ["B200"]},
         "d": {"device_id": [zeroed]}},
    )  # fmt: skip
    assert _found(workspace, found["a"])["app"] == {"O1"}
    assert _found(workspace, found["b"])["app"] == {"O2"}
    for req in ("a", "b", "d"):
        assert not any(t == "web" for t, _ in _possible(workspace, found[req])), req
    assert _found(workspace, found["d"]) == {}
    assert [h.status for h in found["d"].held_back] == ["placeholder"]


GIFT_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: name, kind: name}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: name, kind: name}
tables:
  crm: {columns: {customer_id: {}, email: {}, name: {}, phone: {}}}
  orders: {columns: {order_id: {}, phone: {}, name: {}}}
erasure:
  default: delete
"""


def test_her_order_for_someone_found_nowhere_else_is_never_lost(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's orders carry her mobile: R1 in her name, R2 a gift delivered to Carla Vidal
    (named nowhere else), R3 to Bruno Sala, a customer of his own (B200), R4 to "Bruno
    Sal" (his name mistyped). Nothing shows that R2 is someone else's: a possible match for
    her, not dropped unseen. R3 and R4 name another customer: not hers even to review."""
    policy = _load(tmp_path, GIFT_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES "
        "('A100', 'alba@example.com', 'Alba Ruiz', '+34 622 111 222'), "
        "('B200', 'bruno@example.com', 'Bruno Sala', NULL)) t(customer_id, email, name, phone)"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM (VALUES ('R1', '622111222', 'Alba Ruiz'), "
        "('R2', '622111222', 'Carla Vidal'), ('R3', '622111222', 'Bruno Sala'), "
        "('R4', '622111222', 'Bruno Sal')) t(order_id, phone, name)"
    )
    ctx = service.context(workspace, policy)
    alba = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})["a"]
    possible = _possible(workspace, alba) | {
        ("orders", i) for i in _found(workspace, alba).get("orders", set())
    }
    assert {("orders", "R1"), ("orders", "R2")} <= possible
    assert not {("orders", "R3"), ("orders", "R4")} & possible


@pytest.mark.parametrize("walk_in", ["999999", "-1", "00000000T", "CONTADO"])
def test_the_id_walk_in_sales_are_filed_under_links_nobody(
    workspace: Workspace, tmp_path: Path, walk_in: str
) -> None:
    """The shop files guest checkouts and cash sales under one customer id: Alba's guest
    login G1 (her address) and Carla's G2; payments P1 (Carla's IBAN) and P2 (Bruno's).
    Nobody is that customer: each row is found by its own identifiers and no other's,
    and Alba's G1 is hers (not dropped as another customer's)."""
    carla = "ES6000491500051234567892"
    bruno = "ES7620770024003102575766"
    policy = _household(
        workspace,
        tmp_path,
        f"('G1', '{walk_in}', NULL, NULL, 'alba@example.com'), "
        f"('G2', '{walk_in}', NULL, NULL, 'carla@example.com')",
        payments=f"('P1', '{walk_in}', '{carla}', NULL), ('P2', '{walk_in}', '{bruno}', NULL)",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace,
        ctx.space,
        {"a": {"customer_id": ["A100"]}, "c": {"email": ["carla@example.com"]},
         "i": {"iban": [carla]}},
    )  # fmt: skip
    assert _found(workspace, found["a"])["web"] == {"G1"}
    assert _found(workspace, found["c"]) == {"web": {"G2"}}
    assert _found(workspace, found["i"]) == {"payments": {"P1"}}
    others = {("web", "G2"), ("payments", "P1"), ("payments", "P2")}
    assert not others & _possible(workspace, found["a"])
    assert not {("web", "G1"), ("payments", "P2")} & _possible(workspace, found["i"])


@pytest.mark.parametrize(
    ("written", "hers"), [("José María García", False), ("García, María José", True)]
)
def test_the_same_given_names_reshuffled_are_a_brother(
    workspace: Workspace, tmp_path: Path, written: str, hers: bool
) -> None:
    """María José García's mobile is on an order R1. Named "José María García" (her
    brother, who uses the family phone), R1 is not certain for her; named surname first,
    "García, María José", it is her own."""
    policy = _load(tmp_path, GIFT_POLICY)
    workspace.con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('M1', 'garcia.familia@example.com', "
        "'María José García', '+34 622 111 222')) t(customer_id, email, name, phone)"
    )
    workspace.con.execute(
        "CREATE TABLE orders AS SELECT 'R1' AS order_id, '622111222' AS phone, ? AS name",
        [written],
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"m": {"customer_id": ["M1"]}})["m"]
    assert ("orders" in _found(workspace, found)) is hers


TEEN_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: name, kind: name}
      - {table: signups, column: email, kind: email}
      - {table: signups, column: mobile, kind: phone, region: ES}
      - {table: orders, column: phone, kind: phone, region: ES}
      - {table: orders, column: name, kind: name}
tables:
  crm: {columns: {customer_id: {}, email: {}, name: {}}}
  signups: {columns: {signup_id: {}, email: {}, mobile: {}}}
  orders: {columns: {order_id: {}, phone: {}, name: {}}}
erasure:
  default: delete
"""


def test_his_sign_up_with_his_mothers_address_is_not_certain_for_him(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Pau signed up (S1) with his mobile and his mother's address; his order R1 carries
    his mobile and his name. Marta's record carries the address. For her the sign-up is
    certain (her address); a request giving only Pau's mobile and name leads to her
    address too: which rows are whose is for a human, none certain for him."""
    policy = _load(tmp_path, TEEN_POLICY)
    con = workspace.con
    con.execute(
        "CREATE TABLE crm AS SELECT 'M1' AS customer_id, 'marta@soler.example' AS email, "
        "'Marta Soler' AS name"
    )
    con.execute(
        "CREATE TABLE signups AS SELECT 'S1' AS signup_id, 'marta@soler.example' AS email, "
        "'+34 677 888 999' AS mobile"
    )
    con.execute(
        "CREATE TABLE orders AS SELECT 'R1' AS order_id, '677888999' AS phone, 'Pau Soler' AS name"
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace,
        ctx.space,
        {"m": {"customer_id": ["M1"]}, "p": {"phone": ["677 888 999"], "name": ["Pau Soler"]}},
    )
    assert _found(workspace, found["m"]) == {"crm": {"M1"}, "signups": {"S1"}}
    assert _found(workspace, found["p"]) == {}
    assert {("signups", "S1"), ("orders", "R1")} <= _possible(workspace, found["p"])


def test_a_guest_address_seen_on_her_phone_does_not_lead_to_her(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A guest logged in once on Alba's phone (L3, an address no record carries). A request
    by that address reaches L3, and through the phone's device her app session O1, whose
    customer id leads to her CRM row. O1 was reached through a device alone: it vouches for
    nothing, nor does her CRM row because O1 carries its id. None of her rows is certain
    for the guest, alone or in a batch with Alba's own request, which keeps them."""
    policy = _household(
        workspace,
        tmp_path,
        "('L3', NULL, NULL, 'dev-alba-0001', 'guest@example.com'), "
        "('G1', NULL, NULL, 'dev-alba-0001', NULL)",
        app="('O1', 'A100', 'dev-alba-0001')",
    )
    ctx = service.context(workspace, policy)
    guest = {"g": {"email": ["guest@example.com"]}}
    alone = find_subjects(workspace, ctx.space, guest)
    batch = find_subjects(workspace, ctx.space, {**guest, "a": {"customer_id": ["A100"]}})
    for found in (alone, batch):
        assert _found(workspace, found["g"]) == {"web": {"L3"}}
        assert {("app", "O1"), ("crm", "A100")} <= _possible(workspace, found["g"])
    alba = _found(workspace, batch["a"])
    assert alba["crm"] == {"A100"} and alba["app"] == {"O1"} and alba["signups"] == {"S0"}


def test_a_customer_the_guest_is_not_known_to_be_is_not_certain_for_him(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The guest's address is on one login (L3) on a phone where customer A300's app runs
    (O1), and A300 paid once (P1). Nothing the guest gave or his rows carry says he is
    A300: O1 is a possible match for him, and A300's payment is not his for certain."""
    policy = _household(
        workspace,
        tmp_path,
        "('L3', NULL, NULL, 'dev-alba-0001', 'guest@example.com')",
        app="('O1', 'A300', 'dev-alba-0001')",
        payments="('P1', 'A300', NULL, NULL)",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"g": {"email": ["guest@example.com"]}})
    assert _found(workspace, found["g"]) == {"web": {"L3"}}
    assert ("app", "O1") in _possible(workspace, found["g"])


PROFILE_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: profiles, column: emails, kind: email}
      - {table: profiles, column: device_id, kind: device_id}
      - {table: app, column: customer_id, kind: customer_id}
      - {table: app, column: device_id, kind: device_id}
tables:
  crm: {columns: {customer_id: {}, email: {}}}
  profiles: {columns: {profile_id: {}, emails: {}, device_id: {}}}
  app: {columns: {session_id: {}, customer_id: {}, device_id: {}}}
erasure:
  default: delete
"""


def test_a_guest_address_in_a_list_on_her_phone_does_not_lead_to_her(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The guest's address is the only item of a profile's list of e-mails (F3), made on
    Alba's phone, where her app (O1) runs. His request has F3 certain, and none of
    Alba's rows: the list vouches for him, and her customer id is not his."""
    policy = _load(tmp_path, PROFILE_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, 'alba@example.com' AS email")
    con.execute("CREATE TABLE profiles (profile_id VARCHAR, emails VARCHAR[], device_id VARCHAR)")
    con.execute("INSERT INTO profiles VALUES ('F3', ['guest@example.com'], 'dev-alba-0001')")
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'A100' AS customer_id, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    guest = service.find(ctx, {"email": ["guest@example.com"]})
    assert _found(workspace, guest) == {"profiles": {"F3"}}
    assert ("app", "O1") in _possible(workspace, guest)
    alba = service.find(ctx, {"customer_id": ["A100"]})
    assert _found(workspace, alba) == {"crm": {"A100"}, "app": {"O1"}}


def test_a_guest_login_on_her_phone_is_not_hers_when_her_record_has_no_address(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Carla's record (C300) carries no e-mail; her app (O1) runs on her phone. A guest
    logged in on it once (L3, an address found nowhere else). Nothing her request reaches
    through her id says the address is hers: L3 is a possible match for a human, not
    erased with her (had she logged in with an address of her own found nowhere else, it
    would be the same question). The guest's request keeps L3 and has none of Carla's rows
    certain, alone or in one batch."""
    policy = _household(
        workspace,
        tmp_path,
        "('L3', NULL, NULL, 'dev-carla-001', 'guest@example.com')",
        app="('O1', 'C300', 'dev-carla-001')",
        payments="('P3', 'C300', NULL, NULL)",
    )
    workspace.con.execute("INSERT INTO crm VALUES ('C300', NULL)")
    ctx = service.context(workspace, policy)
    carla = {"c": {"customer_id": ["C300"]}}
    guest = {"g": {"email": ["guest@example.com"]}}
    alone = {**find_subjects(workspace, ctx.space, carla),
             **find_subjects(workspace, ctx.space, guest)}  # fmt: skip
    batch = find_subjects(workspace, ctx.space, {**carla, **guest})
    for found in (alone, batch):
        assert _found(workspace, found["c"]) == {
            "crm": {"C300"}, "app": {"O1"}, "payments": {"P3"}
        }  # fmt: skip
        assert ("web", "L3") in _possible(workspace, found["c"])
        assert _found(workspace, found["g"]) == {"web": {"L3"}}
        assert ("app", "O1") in _possible(workspace, found["g"])


@pytest.mark.parametrize("profile_name", ["Carla Vidal", "Vidal, Carla", None, "C. Vidal"])
def test_her_second_address_on_her_named_profile_keeps_her_login(
    workspace: Workspace, tmp_path: Path, profile_name: str | None
) -> None:
    """Carla's record carries her name and no e-mail; her first login (L0) carries her
    customer id and her address, and a profile F1 lists that address and a second one. Her
    login on her phone (L4, where her app runs) with the second address is hers when the
    profile carries her name, in any order. Without a name, or with an initial ("C. Vidal"
    is her husband's too), the list may be a family's: F1 and L4 are possible matches for
    a human, not lost."""
    policy = _load(
        tmp_path,
        PROFILE_POLICY.replace(
            "      - {table: app, column: customer_id",
            "      - {table: crm, column: name, kind: name}\n"
            "      - {table: profiles, column: name, kind: name}\n"
            "      - {table: logins, column: customer_id, kind: customer_id}\n"
            "      - {table: logins, column: email, kind: email}\n"
            "      - {table: logins, column: device_id, kind: device_id}\n"
            "      - {table: app, column: customer_id",
        )
        .replace(
            "  app: {",
            "  logins: {columns: {login_id: {}, customer_id: {}, email: {}, device_id: {}}}\n"
            "  app: {",
        )
        .replace("customer_id: {}, email: {}}}", "customer_id: {}, email: {}, name: {}}}")
        .replace("emails: {}, device_id: {}", "emails: {}, device_id: {}, name: {}"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'C300' AS customer_id, NULL::VARCHAR AS email, "
                "'Carla Vidal' AS name")  # fmt: skip
    con.execute("CREATE TABLE profiles AS SELECT 'F1' AS profile_id, "
                "['carla@example.com', 'carla.two@example.com'] AS emails, "
                "NULL::VARCHAR AS device_id, ?::VARCHAR AS name", [profile_name])  # fmt: skip
    con.execute(
        "CREATE TABLE logins AS SELECT * FROM (VALUES "
        "('L0', 'C300', 'carla@example.com', NULL), "
        "('L4', NULL, 'carla.two@example.com', 'dev-carla-001')) "
        "t(login_id, customer_id, email, device_id)"
    )
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'C300' AS customer_id, "
                "'dev-carla-001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    carla = service.find(ctx, {"customer_id": ["C300"]})
    mine = {"crm": {"C300"}, "app": {"O1"}, "logins": {"L0"}}
    if profile_name and "." not in profile_name:
        assert _found(workspace, carla) == {**mine, "profiles": {"F1"}, "logins": {"L0", "L4"}}
    else:
        assert _found(workspace, carla) == mine
        assert {("profiles", "F1"), ("logins", "L4")} <= _possible(workspace, carla)


def test_a_guest_profile_of_two_addresses_on_her_phone_does_not_lead_to_her(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A guest made a profile on Alba's phone listing his two addresses (F4); Alba's record
    has no e-mail, and her app (O1) runs on the phone. His request by one of his addresses
    has F4 certain and none of Alba's rows: what he gave reached a list only, and the rows
    it leads to through the phone are judged against what he gave. Alba's request by her
    customer id does not have his profile certain either."""
    policy = _load(tmp_path, PROFILE_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, NULL::VARCHAR AS email")
    con.execute("CREATE TABLE profiles AS SELECT 'F4' AS profile_id, "
                "['guest@example.com', 'guest.work@example.com'] AS emails, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'A100' AS customer_id, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    guest = {"g": {"email": ["guest@example.com"]}}
    alba = {"a": {"customer_id": ["A100"]}}
    alone = {**find_subjects(workspace, ctx.space, guest),
             **find_subjects(workspace, ctx.space, alba)}  # fmt: skip
    for found in (alone, find_subjects(workspace, ctx.space, {**guest, **alba})):
        assert _found(workspace, found["g"]) == {"profiles": {"F4"}}
        assert {("app", "O1"), ("crm", "A100")} <= _possible(workspace, found["g"])
        assert _found(workspace, found["a"]) == {"crm": {"A100"}, "app": {"O1"}}
        assert ("profiles", "F4") in _possible(workspace, found["a"])


def test_her_account_listing_a_guest_address_is_not_the_guests(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's account record (X1) carries her customer id and lists her address and a
    guest's; nothing else carries the guest's address. His request by it reaches only X1:
    her record is a question for a human, and none of her rows is certain for him. Her own
    request keeps X1."""
    policy = _load(
        tmp_path,
        PROFILE_POLICY.replace(
            "      - {table: profiles, column: emails",
            "      - {table: profiles, column: customer_id, kind: customer_id}\n"
            "      - {table: profiles, column: emails",
        ).replace("profile_id: {}, emails", "profile_id: {}, customer_id: {}, emails"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, NULL::VARCHAR AS email")
    con.execute("CREATE TABLE profiles AS SELECT 'X1' AS profile_id, 'A100' AS customer_id, "
                "['alba@example.com', 'guest@example.com'] AS emails, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'A100' AS customer_id, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    found = find_subjects(
        workspace,
        ctx.space,
        {"g": {"email": ["guest@example.com"]}, "a": {"customer_id": ["A100"]}},
    )
    assert _found(workspace, found["g"]) == {}
    assert {("profiles", "X1"), ("crm", "A100")} <= _possible(workspace, found["g"])
    assert _found(workspace, found["a"]) == {"crm": {"A100"}, "profiles": {"X1"}, "app": {"O1"}}


@pytest.mark.parametrize("customer_id", ["A100", None])
def test_a_class_list_holding_her_address_is_not_a_namesakes(
    workspace: Workspace, tmp_path: Path, customer_id: str | None
) -> None:
    """A namesake's address is found only in a contact list (F4) that also holds Alba's,
    which her record carries (with or without a customer id). The namesake's request
    reaches the list alone: it holds an address another row carries beside hers, so whose
    list it is the data does not say; it is a question, and so is everything of Alba's
    behind it. Alba's request keeps the list (reached through her address)."""
    policy = _load(tmp_path, PROFILE_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT ?::VARCHAR AS customer_id, "
                "'alba@example.com' AS email", [customer_id])  # fmt: skip
    con.execute("CREATE TABLE profiles AS SELECT 'F4' AS profile_id, "
                "['ruiz.alba@example.com', 'alba@example.com'] AS emails, "
                "NULL::VARCHAR AS device_id")  # fmt: skip
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'A100' AS customer_id, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    namesake = {"n": {"email": ["ruiz.alba@example.com"]}}
    alba = {"a": {"email": ["alba@example.com"]}}
    alone = {**find_subjects(workspace, ctx.space, namesake),
             **find_subjects(workspace, ctx.space, alba)}  # fmt: skip
    crm = {str(customer_id)}
    mine = {"crm": crm, "profiles": {"F4"}} | ({"app": {"O1"}} if customer_id else {})
    for found in (alone, find_subjects(workspace, ctx.space, {**namesake, **alba})):
        assert _found(workspace, found["n"]) == {}
        assert {("profiles", "F4"), ("crm", str(customer_id))} <= _possible(workspace, found["n"])
        assert _found(workspace, found["a"]) == mine


def test_a_guest_address_on_her_account_list_does_not_make_his_sign_up_hers(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's account record (X1) carries her customer id and lists her address and a
    guest's; the guest signed up for the newsletter (S8) with his. Her request by id keeps
    X1 and has S8 as a question: an item of a list on her record is not shown to be hers.
    His request keeps S8, and X1 is a question for him."""
    policy = _load(
        tmp_path,
        PROFILE_POLICY.replace(
            "      - {table: profiles, column: emails",
            "      - {table: profiles, column: customer_id, kind: customer_id}\n"
            "      - {table: signups, column: email, kind: email}\n"
            "      - {table: profiles, column: emails",
        )
        .replace("profile_id: {}, emails", "profile_id: {}, customer_id: {}, emails")
        .replace("  app: {", "  signups: {columns: {signup_id: {}, email: {}}}\n  app: {"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, 'alba@example.com' AS email")
    con.execute("CREATE TABLE profiles AS SELECT 'X1' AS profile_id, 'A100' AS customer_id, "
                "['alba@example.com', 'guest@example.com'] AS emails, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    con.execute("CREATE TABLE signups AS SELECT 'S8' AS signup_id, 'guest@example.com' AS email")
    con.execute("CREATE TABLE app AS SELECT 'O1' AS session_id, 'A100' AS customer_id, "
                "'dev-alba-0001' AS device_id")  # fmt: skip
    ctx = service.context(workspace, policy)
    guest = {"g": {"email": ["guest@example.com"]}}
    alba = {"a": {"customer_id": ["A100"]}}
    alone = {**find_subjects(workspace, ctx.space, guest),
             **find_subjects(workspace, ctx.space, alba)}  # fmt: skip
    for found in (alone, find_subjects(workspace, ctx.space, {**guest, **alba})):
        assert _found(workspace, found["a"]) == {
            "crm": {"A100"},
            "app": {"O1"},
            "profiles": {"X1"},
        }
        assert ("signups", "S8") in _possible(workspace, found["a"])
        assert _found(workspace, found["g"]) == {"signups": {"S8"}}
        assert ("profiles", "X1") in _possible(workspace, found["g"])


HOUSEHOLD_LIST_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: phone, kind: phone, region: ES}
      - {table: crm, column: name, kind: name}
      - {table: calls, column: phone, kind: phone, region: ES}
      - {table: calls, column: caller, kind: name}
      - {table: households, column: customer_id, kind: customer_id}
      - {table: households, column: phones, kind: phone, region: ES}
      - {table: signups, column: email, kind: email}
      - {table: signups, column: mobile, kind: phone, region: ES}
tables:
  crm: {columns: {customer_id: {}, email: {}, phone: {}, name: {}}}
  calls: {columns: {call_id: {}, phone: {}, caller: {}}}
  households: {columns: {household_id: {}, customer_id: {}, phones: {}}}
  signups: {columns: {signup_id: {}, email: {}, mobile: {}}}
erasure:
  default: delete
"""


@pytest.mark.parametrize("phones", [["622111222", "644555666"], ["644555666"]])
def test_her_household_record_listing_her_sons_mobile_is_not_his(
    workspace: Workspace, tmp_path: Path, phones: list[str]
) -> None:
    """Alba's household record (H1) carries her customer id and lists her son Leo's mobile
    (with hers, or alone); Leo signed up with his address and that mobile (S9) and called
    from it (C3). His request by the mobile alone reaches her household record, his call
    and his sign-up: the customer the
    record names is Alba (her CRM row has another address and is held back), so which of
    them asked is for a human, and nothing is certain. Her request by id keeps H1, and
    his by his address keeps S9 only."""
    policy = _load(tmp_path, HOUSEHOLD_LIST_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, "
                "'alba@example.com' AS email, '622111222' AS phone, "
                "'Alba Ruiz' AS name")  # fmt: skip
    con.execute("CREATE TABLE calls AS SELECT 'C3' AS call_id, '644555666' AS phone, "
                "'Leo Ruiz' AS caller")  # fmt: skip
    con.execute("CREATE TABLE households AS SELECT 'H1' AS household_id, "
                "'A100' AS customer_id, ?::VARCHAR[] AS phones", [phones])  # fmt: skip
    con.execute("CREATE TABLE signups AS SELECT 'S9' AS signup_id, "
                "'leo@example.com' AS email, '644 555 666' AS mobile")  # fmt: skip
    ctx = service.context(workspace, policy)
    leo = {"k": {"phone": ["+34 644 555 666"]}, "ke": {"email": ["leo@example.com"]}}
    alba = {"a": {"customer_id": ["A100"]}}
    alone = {**find_subjects(workspace, ctx.space, leo),
             **find_subjects(workspace, ctx.space, alba)}  # fmt: skip
    for found in (alone, find_subjects(workspace, ctx.space, {**leo, **alba})):
        assert _found(workspace, found["k"]) == {}
        assert {("households", "H1"), ("signups", "S9"), ("calls", "C3")} <= _possible(
            workspace, found["k"]
        )
        assert _found(workspace, found["ke"]) == {"signups": {"S9"}, "calls": {"C3"}}
        assert _found(workspace, found["a"]) == {"crm": {"A100"}, "households": {"H1"}}


@pytest.mark.parametrize("device", [None, "dev-leo-0001"])
def test_a_household_list_of_phones_keeps_each_members_rows_apart(
    workspace: Workspace, tmp_path: Path, device: str | None
) -> None:
    """Alba's household record (H1) carries her customer id and lists her mobile and her
    son Leo's. Leo's calls (C3, C4) and sign-up (S9) carry only his mobile (one call also
    his phone's device id): nothing on them says whose they are. Leo asking by his mobile
    reaches her household record, and through its customer id her CRM row: whose record it
    is, the data does not say, so nothing is certain. Alba asking by her mobile or her
    customer id keeps her rows; his calls and sign-up, reached only through his number on
    her record, are questions (the device on his call, which finds the call again, does
    not make it hers)."""
    policy = _load(
        tmp_path,
        HOUSEHOLD_LIST_POLICY.replace(
            "      - {table: calls, column: caller, kind: name}\n",
            "      - {table: calls, column: caller, kind: name}\n"
            "      - {table: calls, column: device_id, kind: device_id}\n",
        ).replace("caller: {}}", "caller: {}, device_id: {}}"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, "
                "'alba@example.com' AS email, '622111222' AS phone, "
                "'Alba Ruiz' AS name")  # fmt: skip
    con.execute("CREATE TABLE calls AS SELECT * FROM (VALUES "
                "('C3', '644555666', NULL, ?), ('C4', '644555666', NULL, NULL)) "
                "t(call_id, phone, caller, device_id)", [device])  # fmt: skip
    con.execute("CREATE TABLE households AS SELECT 'H1' AS household_id, "
                "'A100' AS customer_id, ['622111222', '644555666'] AS phones")  # fmt: skip
    con.execute("CREATE TABLE signups AS SELECT 'S9' AS signup_id, "
                "NULL::VARCHAR AS email, '644 555 666' AS mobile")  # fmt: skip
    ctx = service.context(workspace, policy)
    requests = {
        "k": {"phone": ["+34 644 555 666"]},
        "am": {"phone": ["+34 622 111 222"]},
        "a": {"customer_id": ["A100"]},
    }
    for found in _alone_and_batch(workspace, ctx.space, requests):
        assert _found(workspace, found["k"]) == {}
        leo = {("calls", "C3"), ("calls", "C4"), ("signups", "S9")}
        assert {("households", "H1"), *leo} <= _possible(workspace, found["k"])
        for req in ("am", "a"):
            assert _found(workspace, found[req]) == {"crm": {"A100"}, "households": {"H1"}}
            assert leo <= _possible(workspace, found[req])
            reasons = {p.table: p.reason for p in found[req].possible}
            assert "an item of a list of several" in reasons["calls"]


NAMES_LIST_POLICY = HOUSEHOLD_LIST_POLICY.replace(
    "      - {table: households, column: phones, kind: phone, region: ES}\n",
    "      - {table: households, column: phones, kind: phone, region: ES}\n"
    "      - {table: households, column: names, kind: name}\n",
).replace("phones: {}}", "phones: {}, names: {}}")


def _alone_and_batch(
    workspace: Workspace, space: SearchSpace, requests: dict[str, dict[str, list[str]]]
) -> tuple[dict[str, service.SubjectMatch], dict[str, service.SubjectMatch]]:
    """What each request finds alone, then in one batch with the others (they must agree)."""
    alone: dict[str, service.SubjectMatch] = {}
    for req, given in requests.items():
        alone.update(find_subjects(workspace, space, {req: given}))
    return alone, find_subjects(workspace, space, requests)


def _names_lists(workspace: Workspace, crm: str, households: str, calls: str) -> None:
    con = workspace.con
    con.execute(f"CREATE TABLE crm AS SELECT * FROM (VALUES {crm}) "
                "t(customer_id, email, phone, name)")  # fmt: skip
    con.execute(f"CREATE TABLE households AS SELECT * FROM (VALUES {households}) "
                "t(household_id, customer_id, phones, names)")  # fmt: skip
    con.execute(f"CREATE TABLE calls AS SELECT * FROM (VALUES {calls}) "
                "t(call_id, phone, caller)")  # fmt: skip
    con.execute("CREATE TABLE signups (signup_id VARCHAR, email VARCHAR, mobile VARCHAR)")


def test_a_household_list_of_names_does_not_make_her_sons_name_hers(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's household record (H1) carries her customer id and lists her mobile and her
    son Leo's UK number, and both their names. Leo's calls from his number (C3 without a
    name, C4 with his) are reached only through her record. The names listed are the
    household's, not hers: his named call is not vouched for by her record, and is a
    question for her request by customer id, and for her request by her mobile and name,
    which keeps her own rows."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, "
                "'alba@example.com' AS email, '622111222' AS phone, "
                "'Alba Ruiz' AS name")  # fmt: skip
    con.execute("CREATE TABLE calls AS SELECT * FROM (VALUES "
                "('C3', '+44 7700 900123', NULL), ('C4', '+44 7700 900123', 'Leo Ruiz')) "
                "t(call_id, phone, caller)")  # fmt: skip
    con.execute("CREATE TABLE households AS SELECT 'H1' AS household_id, "
                "'A100' AS customer_id, ['622111222', '+44 7700 900123'] AS phones, "
                "['Alba Ruiz', 'Leo Ruiz'] AS names")  # fmt: skip
    con.execute("CREATE TABLE signups (signup_id VARCHAR, email VARCHAR, mobile VARCHAR)")
    ctx = service.context(workspace, policy)
    requests = {
        "a": {"customer_id": ["A100"]},
        "an": {"phone": ["+34 622 111 222"], "name": ["Alba Ruiz"]},
    }
    for found in _alone_and_batch(workspace, ctx.space, requests):
        for req in requests:
            assert _found(workspace, found[req]) == {"crm": {"A100"}, "households": {"H1"}}
            assert {("calls", "C3"), ("calls", "C4")} <= _possible(workspace, found[req])


@pytest.mark.parametrize("names", [["Alba Ruiz", "Leo Ruiz"], ["Alba Ruiz"]])
def test_a_household_list_of_names_does_not_make_her_sons_address_hers(
    workspace: Workspace, tmp_path: Path, names: list[str]
) -> None:
    """Alba's CRM row (no e-mail) carries her mobile. A household record (H9, no customer
    id) lists that mobile, and names her and her son Leo, with his address; Leo signed up
    with it (S9). Her request by customer id reaches H9 through her mobile: a record
    naming the household does not carry her full name as hers, so Leo's address on it is
    not hers, and H9 and his sign-up are questions. A record naming her alone does, and
    both are hers."""
    policy = _load(
        tmp_path,
        NAMES_LIST_POLICY.replace(
            "      - {table: households, column: names, kind: name}\n",
            "      - {table: households, column: names, kind: name}\n"
            "      - {table: households, column: email, kind: email}\n",
        ).replace("names: {}}", "names: {}, email: {}}"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, NULL::VARCHAR AS email, "
                "'622111222' AS phone, 'Alba Ruiz' AS name")  # fmt: skip
    con.execute("CREATE TABLE calls (call_id VARCHAR, phone VARCHAR, caller VARCHAR)")
    con.execute("CREATE TABLE households AS SELECT 'H9' AS household_id, "
                "NULL::VARCHAR AS customer_id, ['622111222'] AS phones, "
                "?::VARCHAR[] AS names, 'leo@example.com' AS email", [names])  # fmt: skip
    con.execute("CREATE TABLE signups AS SELECT 'S9' AS signup_id, "
                "'leo@example.com' AS email, NULL::VARCHAR AS mobile")  # fmt: skip
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})["a"]
    if len(names) > 1:
        assert _found(workspace, found) == {"crm": {"A100"}}
        assert {("households", "H9"), ("signups", "S9")} <= _possible(workspace, found)
    else:
        assert _found(workspace, found) == {
            "crm": {"A100"},
            "households": {"H9"},
            "signups": {"S9"},
        }


def test_a_card_naming_her_and_her_son_reached_through_his_mobile_is_a_question(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's household record (H1) carries her customer id and lists her mobile and her
    son Leo's. A second record (F7) lists only Leo's mobile and names them both; his call
    (C3) carries his mobile. Reached only through his number on her record, F7 names her
    among others: not hers for certain, a question like his call."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', '622111222', 'Alba Ruiz')",
        "('H1', 'A100', ['622111222', '644555666'], NULL::VARCHAR[]), "
        "('F7', NULL, ['644555666'], ['Alba Ruiz', 'Leo Ruiz'])",
        "('C3', '644555666', NULL::VARCHAR)",
    )
    ctx = service.context(workspace, policy)
    requests = {"a": {"customer_id": ["A100"]}, "am": {"phone": ["+34 622 111 222"]}}
    for found in _alone_and_batch(workspace, ctx.space, requests):
        for req in requests:
            assert _found(workspace, found[req]) == {"crm": {"A100"}, "households": {"H1"}}
            assert {("households", "F7"), ("calls", "C3")} <= _possible(workspace, found[req])


def test_when_only_a_household_list_names_her_a_strangers_call_is_a_question(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's CRM row has no name; her household record lists her and her son. A call from
    her mobile by "Marc Soler" is not hers for certain: which of the listed she is, the
    data does not say, and he is neither."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', '622111222', NULL)",
        "('H1', 'A100', ['699000111'], ['Alba Ruiz', 'Leo Ruiz'])",
        "('C2', '622111222', 'Marc Soler')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})["a"]
    assert _found(workspace, found) == {"crm": {"A100"}, "households": {"H1"}}
    assert ("calls", "C2") in _possible(workspace, found)


def test_her_son_naming_himself_does_not_get_her_household_record(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Her household record (H1, her customer id) lists her mobile and her son's, and
    both their names; her CRM row has no name. Leo asking by his mobile and his name: the
    list names him, but the customer id on it is not shown to be his: nothing certain."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', NULL, NULL)",
        "('H1', 'A100', ['622111222', '644555666'], ['Alba Ruiz', 'Leo Ruiz'])",
        "('C1', '622111222', 'Alba Ruiz')",
    )
    ctx = service.context(workspace, policy)
    given = {"ln": {"phone": ["+34 644 555 666"], "name": ["Leo Ruiz"]}}
    found = find_subjects(workspace, ctx.space, given)["ln"]
    assert _found(workspace, found) == {}
    assert {("crm", "A100"), ("households", "H1")} <= _possible(workspace, found)
    # the reviewer reads what the record has of his: his whole number, not "its last digits"
    evidence = {p.table: p.evidence for p in found.possible}
    assert "same phone number" in evidence["households"]
    assert "same last 4 phone digits" not in evidence["households"]
    # reached through his phone: not "no identifier links this row to the person"
    assert not any("no identifier" in e for e in evidence["households"]), evidence
    # one identifier given (his name beside it only corroborates)
    reasons = {p.table: p.reason for p in found.possible}
    assert "the phone given leads to different people" in reasons["households"], reasons


@pytest.mark.parametrize("listed", [["Leo Ruiz"], ["Leo Ruiz", "unknown"]])
def test_her_record_listing_only_her_sons_name_does_not_make_it_hers(
    workspace: Workspace, tmp_path: Path, listed: list[str]
) -> None:
    """Alba's household record (H1, her customer id) lists her mobile and her son's, and
    only his name (beside a placeholder, or alone). Her CRM row names her. A list of one
    person's names is that person's, but not hers when a name of hers outside lists is not
    one of them: his named call from his number is a question for her, and his request by
    his number and name gets nothing of hers for certain."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', '622111222', 'Alba Ruiz')",
        f"('H1', 'A100', ['622111222', '+44 7700 900123'], {listed!r})",
        "('C3', '+44 7700 900123', NULL), ('C4', '+44 7700 900123', 'Leo Ruiz')",
    )
    ctx = service.context(workspace, policy)
    requests = {
        "a": {"customer_id": ["A100"]},
        "l": {"phone": ["+44 7700 900123"], "name": ["Leo Ruiz"]},
    }
    for found in _alone_and_batch(workspace, ctx.space, requests):
        assert _found(workspace, found["a"]) == {"crm": {"A100"}, "households": {"H1"}}
        assert ("calls", "C4") in _possible(workspace, found["a"])
        assert "crm" not in _found(workspace, found["l"])


def test_a_card_listing_a_couple_keeps_each_ones_request(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A shop's card (K1, no customer id) lists Alba's and Bruno's mobiles and names. Each
    asking by mobile (and name) keeps their own record and call, never the other's; the
    card, which holds both their data, is a question for each."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', '622111222', 'Alba Ruiz'), "
        "('B200', 'bruno@example.com', '633444555', 'Bruno Sala')",
        "('K1', NULL, ['622111222', '633444555'], ['Alba Ruiz', 'Bruno Sala'])",
        "('C1', '622111222', 'Alba Ruiz'), ('C6', '633444555', 'Bruno Sala')",
    )
    ctx = service.context(workspace, policy)
    requests = {
        "an": {"phone": ["+34 622 111 222"], "name": ["Alba Ruiz"]},
        "bn": {"phone": ["+34 633 444 555"], "name": ["Bruno Sala"]},
        "b": {"phone": ["+34 633 444 555"]},
    }
    for found in _alone_and_batch(workspace, ctx.space, requests):
        assert _found(workspace, found["an"]) == {"crm": {"A100"}, "calls": {"C1"}}
        for req in ("bn", "b"):
            assert _found(workspace, found[req]) == {"crm": {"B200"}, "calls": {"C6"}}
        for req in requests:
            assert ("households", "K1") in _possible(workspace, found[req])
            reasons = {p.table: p.reason for p in found[req].possible}
            assert "listing several people" in reasons["households"]


@pytest.mark.parametrize("names", [None, ["Juan García", "Juan García López"]])
def test_his_sons_call_from_the_household_list_is_not_the_fathers(
    workspace: Workspace, tmp_path: Path, names: list[str] | None
) -> None:
    """Juan García's household record lists his mobile and his son's. The son's call from
    his own mobile, as "Juan García López", reached only through that list, is a question
    for the father: "Juan García" is all in his son's name (and the record may list both
    names)."""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('J700', 'juan.garcia@example.com', '611000001', 'Juan García')",
        f"('H5', 'J700', ['611000001', '611000002'], {names or 'NULL::VARCHAR[]'})",
        "('K21', '611000002', 'Juan García López'), ('K20', '611000001', 'Juan García')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"j": {"customer_id": ["J700"]}})["j"]
    assert _found(workspace, found) == {"crm": {"J700"}, "households": {"H5"}, "calls": {"K20"}}
    assert ("calls", "K21") in _possible(workspace, found)


def test_a_list_of_one_persons_names_written_differently_is_hers(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Her household record lists her mobiles and her son's, and her name as she writes
    it in two ways ("Alba Ruiz Garcia", "Ruiz Garcia, Alba"); her CRM row has no name. Her
    call from her second mobile as "A. Ruiz Garcia" is hers; her son's named call is not.
    ("Alba Ruiz" beside "Alba Ruiz Garcia" would be two people: a father's "Juan García"
    beside his son's "Juan García López".)"""
    policy = _load(tmp_path, NAMES_LIST_POLICY)
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', NULL, NULL)",
        "('H1', 'A100', ['622111222', '611222333', '644555666'], "
        "['Alba Ruiz Garcia', 'Ruiz Garcia, Alba'])",
        "('C1', '611222333', 'A. Ruiz Garcia'), ('C4', '644555666', 'Leo Ruiz')",
    )
    ctx = service.context(workspace, policy)
    found = find_subjects(workspace, ctx.space, {"a": {"customer_id": ["A100"]}})["a"]
    assert _found(workspace, found) == {"crm": {"A100"}, "households": {"H1"}, "calls": {"C1"}}
    assert ("calls", "C4") in _possible(workspace, found)


ACCOUNT_LIST_POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: name, kind: name}
      - {table: accounts, column: customer_id, kind: customer_id}
      - {table: accounts, column: emails, kind: email}
      - {table: shop, column: email, kind: email}
      - {table: shop, column: name, kind: name}
      - {table: shop, column: cookie_id, kind: cookie_id}
      - {table: web, column: cookie_id, kind: cookie_id}
tables:
  crm: {columns: {customer_id: {}, email: {}, name: {}}}
  accounts: {columns: {acct_id: {}, customer_id: {}, emails: {}}}
  shop: {columns: {order_id: {}, email: {}, name: {}, cookie_id: {}}}
  web: {columns: {event_id: {}, cookie_id: {}}}
erasure:
  default: delete
"""


def test_her_order_by_her_work_address_and_its_browser_stay_hers(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Alba's account (X1) lists her two addresses. Her shop order by the second one
    carries her full name and her browser's cookie, which her web events carry alone.
    The rule for lists of phones does not judge a list of addresses: asked by her
    customer id or her first address, the order and the events are hers."""
    policy = _load(tmp_path, ACCOUNT_LIST_POLICY)
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, "
                "'alba@example.com' AS email, 'Alba Ruiz' AS name")  # fmt: skip
    con.execute("CREATE TABLE accounts AS SELECT 'X1' AS acct_id, 'A100' AS customer_id, "
                "['alba@example.com', 'albawork@example.com'] AS emails")  # fmt: skip
    con.execute("CREATE TABLE shop AS SELECT 'D1' AS order_id, "
                "'albawork@example.com' AS email, 'Alba Ruiz' AS name, "
                "'ck-alba-0001' AS cookie_id")  # fmt: skip
    con.execute("CREATE TABLE web AS SELECT * FROM (VALUES ('W1', 'ck-alba-0001'), "
                "('W2', 'ck-alba-0001')) t(event_id, cookie_id)")  # fmt: skip
    ctx = service.context(workspace, policy)
    requests = {"a": {"customer_id": ["A100"]}, "m": {"email": ["alba@example.com"]}}
    for found in _alone_and_batch(workspace, ctx.space, requests):
        for req in requests:
            assert _found(workspace, found[req]) == {
                "crm": {"A100"},
                "accounts": {"X1"},
                "shop": {"D1"},
                "web": {"W1", "W2"},
            }


def test_a_list_naming_someone_else_is_not_the_requesters(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Gina Sol asks by an address found only in Dan Roca's profile (F10), which lists his
    address and hers. The profile's name contradicts the name she gave: it is a question.
    Asked by the address alone, nothing says the profile is hers either: a question too.
    Asked by it with the profile's name, it is the requester's."""
    policy = _load(
        tmp_path,
        PROFILE_POLICY.replace(
            "      - {table: profiles, column: device_id",
            "      - {table: profiles, column: name, kind: name}\n"
            "      - {table: profiles, column: device_id",
        ).replace("emails: {}, device_id: {}", "emails: {}, device_id: {}, name: {}"),
    )
    con = workspace.con
    con.execute("CREATE TABLE crm AS SELECT 'A100' AS customer_id, 'alba@example.com' AS email")
    con.execute("CREATE TABLE profiles AS SELECT 'F10' AS profile_id, "
                "['dan@example.com', 'gina@example.com'] AS emails, "
                "NULL::VARCHAR AS device_id, 'Dan Roca' AS name")  # fmt: skip
    con.execute("CREATE TABLE app (session_id VARCHAR, customer_id VARCHAR, device_id VARCHAR)")
    ctx = service.context(workspace, policy)
    requests = {
        "gn": {"email": ["gina@example.com"], "name": ["Gina Sol"]},
        "g": {"email": ["gina@example.com"]},
        "dn": {"email": ["gina@example.com"], "name": ["Dan Roca"]},
    }
    for found in _alone_and_batch(workspace, ctx.space, requests):
        for req in ("gn", "g"):
            assert _found(workspace, found[req]) == {}
            assert ("profiles", "F10") in _possible(workspace, found[req])
        assert _found(workspace, found["dn"]) == {"profiles": {"F10"}}


def test_a_record_listing_her_son_is_flagged_before_it_is_sent_or_erased(
    workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    """Alba's household record (H1, her customer id) lists her son's UK mobile and name
    beside hers. Her access report and her erasure include it (it is her record), but
    the operator is told that it lists items not shown to be hers: the copy may need
    them withheld (Art. 15(4)), and deleting the row removes them too. Carla's record,
    which lists only her number and her name written other ways, is not flagged; Bruno's
    lists his wife's mobile, which no other row carries (followed from his record, not
    shown to be his)."""
    _load(tmp_path, NAMES_LIST_POLICY)
    policy = str(tmp_path / "policy.yaml")
    _names_lists(
        workspace,
        "('A100', 'alba@example.com', '622111222', 'Alba Ruiz Garcia'), "
        "('B200', 'bruno@example.com', '633444555', 'Bruno Sala'), "
        "('C300', 'carla@example.com', '+34 644 555 666', 'Carla Vidal')",
        "('H1', 'A100', ['622111222', '+44 7700 900123'], ['Alba Ruiz', 'Leo Ruiz']), "
        "('H3', 'B200', ['633444555', '699000111'], ['Bruno Sala']), "
        "('H5', 'C300', ['644555666'], ['Vidal, Carla', 'C. Vidal'])",
        "('C4', '+44 7700 900123', 'Leo Ruiz')",
    )
    workspace.close()
    out = str(tmp_path / "reports")
    sar = cli("sar", "--customer-id", "A100", "-p", policy, "-o", out)
    assert sar.exit_code == 0, sar.output
    assert "households: rows of the report list items not shown to be the person's" in (sar.stderr)
    assert "in names (1 row(s)), phones (1 row(s)): check them before sending" in sar.stderr
    assert "not shown" not in cli("sar", "--customer-id", "C300", "-p", policy, "-o", out).stderr
    plans = {}
    for who in ("A100", "B200", "C300"):
        plan = cli("erase", "--customer-id", who, "-p", policy, "--dry-run", "-f", "json")
        assert plan.exit_code == 0, plan.output
        plans[who] = {
            t["table"]: t["rows_listing_others"] for t in json_out(plan)["plan"]["tables"]
        }
    assert plans == {
        "A100": {"crm": {}, "households": {"names": 1, "phones": 1}},
        "B200": {"crm": {}, "households": {"phones": 1}},
        "C300": {"crm": {}, "households": {}},
    }
    assert cli("keys", "init").exit_code == 0
    # her CRM phone and e-mail pseudonymized: the tokens read as her values all the same
    assert cli("pseudonymize", "crm", "-c", "phone,email", "--apply").exit_code == 0
    for who, flagged in (("C300", {}), ("B200", {"phones": 1})):
        plan = cli("erase", "--customer-id", who, "-p", policy, "--dry-run", "-f", "json")
        tables = {t["table"]: t["rows_listing_others"] for t in json_out(plan)["plan"]["tables"]}
        assert tables["households"] == flagged, who
    done = cli("erase", "--customer-id", "A100", "-p", policy, "--apply", "-o", out)
    assert done.exit_code == 0, done.output
    md = next(Path(out).glob("erasure-*.md")).read_text(encoding="utf-8")
    assert "households: of its 1 row(s), some list items not shown to be the person's" in md
    assert "in names (1 row(s)), phones (1 row(s)): delete removed them too" in md
    # a batch says it in its reasons
    batch = tmp_path / "requests.csv"
    batch.write_text("request_id,type,customer_id,received_at\n"
                     "R-B,access,B200,2026-12-01T10:00:00\n"
                     "R-BE,erasure,B200,2026-12-01T10:00:00\n", encoding="utf-8")  # fmt: skip
    run = cli("requests", "run", str(batch), "-p", policy, "-o", out, "--apply", "-f", "json")
    reasons = {r["request_id"]: r["reason"] for r in json_out(run)["requests"]}
    assert "check before sending (GDPR Art. 15(4)): households: items not shown" in reasons["R-B"]
    assert "the erasure also removed households: items not shown" in reasons["R-BE"]
