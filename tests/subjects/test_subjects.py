"""Finding a person across systems, access reports, erasure with verification."""

from __future__ import annotations

import json
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import Result

from tests.conftest import json_out
from tutela import audit
from tutela.base.keys import load_master_key
from tutela.policy.models import Policy
from tutela.subjects import service
from tutela.workspace import Workspace

Cli = Callable[..., Result]


def test_person_is_found_transitively_across_keys(shop: Workspace, policy: Policy) -> None:
    ctx = service.context(shop, policy)
    match = service.find(ctx, {"email": ["anna.puig@EXAMPLE.com"]})
    # e-mail -> CRM row (case differs) -> phone -> ticket T1 (E.164) and customer id -> orders
    assert {t: len(r) for t, r in match.rows.items()} == {
        "crm": 1,
        "tickets": 1,
        "orders": 2,
        "newsletter": 2,
    }
    assert match.keys["phone"] == {"612345678"}
    # free text: T1 names her and holds her e-mail; T3 holds her e-mail only
    mentions = {(h.table, h.rowid): h.kinds for h in match.free_text}
    assert {"email", "name"} <= mentions[("tickets", 0)]
    assert "email" in mentions[("tickets", 2)]
    # T3 and T4: similar names, other phones: listed for review, not matched
    assert [(p.table, p.rowid) for p in match.possible] == [("tickets", 2), ("tickets", 3)]
    assert all(p.similarity >= 0.88 for p in match.possible)


def test_phone_in_any_format_finds_the_same_person(shop: Workspace, policy: Policy) -> None:
    ctx = service.context(shop, policy)
    for phone in ["+34 612 345 678", "0034612345678", "612-345-678"]:
        match = service.find(ctx, {"phone": [phone]})
        assert set(match.rows) >= {"crm", "tickets", "orders"}, phone


def test_unknown_subject_gets_a_no_data_report(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    ctx = service.context(shop, policy)
    result = service.access_reports(ctx, {"R9": {"email": ["nobody@example.com"]}}, tmp_path)
    report = result["R9"]["report"]
    assert report["data_held"] is False
    for f in result["R9"]["files"]:
        assert stat.S_IMODE(Path(f).stat().st_mode) == 0o600
    assert "We hold no personal data about you" in Path(result["R9"]["files"][2]).read_text()


def test_access_report_contents(shop: Workspace, policy: Policy, tmp_path: Path) -> None:
    ctx = service.context(shop, policy)
    out = service.access_reports(ctx, {"R1": {"customer_id": ["C1"]}}, tmp_path)["R1"]
    report = out["report"]
    crm = next(t for t in report["tables"] if t["table"] == "crm")
    assert crm["rows"][0]["full_name"] == "Anna Puig i Ferrer"
    assert crm["purposes"][0]["legal_basis"] == "contract"
    assert [c["status"] for c in report["consent"]] == ["granted", "withdrawn"]
    html = Path(out["files"][1]).read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "http" not in html.split("<body>")[0]
    assert "Anna Puig i Ferrer" in html
    json_copy = json.loads(Path(out["files"][0]).read_text(encoding="utf-8"))
    assert json_copy["summary"] == report["summary"]


def _content(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: ws.con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in ws.user_tables()
    }


def test_erasure_applies_policy_verifies_and_certifies(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E1": {"email": ["anna.puig@example.com"]}})
    [(cert, files)] = service.apply_erasures(ctx, clean, plans, tmp_path)
    data = _content(shop)
    assert [r[0] for r in data["crm"]] == ["C2", "C3"]
    assert ("O1", None, None) in data["orders"] and ("O3", "C2", "C. Pelayo 2, Madrid") in data[
        "orders"
    ]
    assert [r[0] for r in data["newsletter"]] == ["someone@example.com"]
    # T3 is not hers (another phone) but mentions her e-mail: redacted, row kept
    t3 = next(r for r in data["tickets"] if r[0] == "T3")
    assert "anna.puig" not in t3[3] and "[REDACTED]" in t3[3]
    # T4 was only a possible match: untouched
    assert any(r[0] == "T4" for r in data["tickets"])
    assert cert["verification"]["ok"] is True
    assert cert["audit_entry"]["hash"] == audit.entries(shop.con)[-1].entry_hash
    text = "".join(Path(f).read_text() for f in files)
    # no identifier in clear (the hex hashes may hold any digits, so look for the number)
    assert "anna.puig" not in text.lower() and "612345678" not in text.replace(" ", "")
    for f in files:
        assert stat.S_IMODE(Path(f).stat().st_mode) == 0o600
    assert audit.verify(shop.con, load_master_key(shop.root)).ok
    # idempotent: a second run finds nothing and succeeds
    clean, plans = service.plan_erasures(ctx, {"E2": {"email": ["anna.puig@example.com"]}})
    assert plans[0].empty


def test_crash_half_way_leaves_data_as_it_was(
    shop: Workspace, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _content(shop)
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E1": {"customer_id": ["C1"]}})

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(audit, "append", boom)  # fails after every DELETE/UPDATE ran
    with pytest.raises(RuntimeError):
        service.apply_erasures(ctx, clean, plans, None)
    assert _content(shop) == before


def test_residue_is_reported(shop: Workspace, policy: Policy) -> None:
    rule = policy.erasure.tables["orders"]
    policy.erasure.tables["orders"] = rule.model_copy(update={"columns": ["address"]})
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E1": {"email": ["anna.puig@example.com"]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, None)
    assert cert["verification"]["ok"] is False
    assert cert["verification"]["residue"] == [{"table": "orders", "rows": 2}]


def test_cli_erase_dry_run_then_apply(
    shop: Workspace, cli: Cli, policy_file: Path, tmp_path: Path
) -> None:
    shop.close()
    plan = cli("erase", "--phone", "+34 612 345 678", "-p", str(policy_file), "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    body = json_out(plan)
    assert body["applied"] is False
    assert {t["table"]: t["action"] for t in body["plan"]["tables"]}["orders"] == "anonymize"
    ws = Workspace.open(shop.root)
    assert ws.row_count("crm") == 3  # dry run changed nothing
    ws.close()
    done = cli(
        "erase",
        "--phone",
        "+34 612 345 678",
        "-p",
        str(policy_file),
        "--apply",
        "--out",
        str(tmp_path / "certs"),
        "--request-id",
        "REQ/../../x",
        "--format",
        "json",
    )
    assert done.exit_code == 0, done.stderr
    files = json_out(done)["files"]
    assert all(Path(f).parent == (tmp_path / "certs").resolve() for f in files)
    assert cli("audit", "verify").exit_code == 0


def test_cli_errors(shop: Workspace, cli: Cli, policy_file: Path) -> None:
    shop.close()
    none = cli("subject", "find", "-p", str(policy_file))
    assert none.exit_code == 2 and "no identifier given" in none.stderr
    bad = cli("subject", "find", "--email", "not-an-email", "-p", str(policy_file))
    assert bad.exit_code == 2 and "malformed e-mail" in bad.stderr
    letters = cli("subject", "find", "--phone", "abc", "-p", str(policy_file))
    assert letters.exit_code == 2 and "malformed phone number" in letters.stderr
    named = cli("sar", "--id", "name=Anna Puig", "-p", str(policy_file))
    assert named.exit_code == 2 and "a name alone does not identify" in named.stderr
    unknown = cli("subject", "find", "--id", "passport=X1", "-p", str(policy_file))
    assert unknown.exit_code == 2 and "no table declares a 'passport'" in unknown.stderr
    missing = cli("sar", "--email", "a@b.co", "-p", str(policy_file.parent / "nope.yaml"))
    assert missing.exit_code == 3


def _tickets(ws: Workspace, rowids: list[int]) -> set[str]:
    return {
        r[0]
        for r in ws.con.execute(
            "SELECT ticket FROM tickets WHERE rowid IN (SELECT UNNEST(?::BIGINT[]))", [rowids]
        ).fetchall()
    }


def test_review_regressions_wrong_person_and_missed_rows(shop: Workspace, policy: Policy) -> None:
    """Same digits in another country, placeholders, odd separators, and a namesake in
    free text: none may pull in another person or hide one of hers."""
    con = shop.con
    con.execute("INSERT INTO crm VALUES ('C9', 'bob@example.com', '+48 612 345 678', 'Bob Nowak')")
    con.execute(
        "INSERT INTO tickets VALUES "
        "('T5', '612\u00a0345\u00a0678', 'Anna Puig', 'trucada'), "  # no-break spaces
        "('T6', '+48612345678', 'Bob Nowak', 'Polish caller'), "
        "('T7', '699 000 000', 'Joanna Puig i Ferrer', "
        "'La Sra. Joanna Puig i Ferrer, germana'), "  # a namesake in the text
        "('T8', '699 000 001', 'X', 'Anna called from 612 345 678 2 times')"
    )
    con.execute("INSERT INTO orders VALUES ('O9', 'guest', 'x'), ('O10', 'guest', 'y')")
    ctx = service.context(shop, policy)
    match = service.find(ctx, {"customer_id": ["C1"]})
    crm_ids = {
        r[0]
        for r in shop.con.execute(
            "SELECT customer_id FROM crm WHERE rowid IN (SELECT UNNEST(?::BIGINT[]))",
            [match.rows["crm"]],
        ).fetchall()
    }
    assert crm_ids == {"C1"}  # not Bob (+48)
    assert _tickets(shop, match.rows["tickets"]) == {"T1", "T5"}
    mention_rows = {h.rowid for h in match.free_text}
    assert 7 in mention_rows  # T8: her number runs into the next word
    assert 6 not in mention_rows  # T7: "Joanna Puig i Ferrer" is not "Anna Puig i Ferrer"
    assert len(match.rows["orders"]) == 2  # 'guest' orders stay out


def test_sister_sharing_the_phone_makes_it_a_question_for_a_human(
    shop: Workspace, policy: Policy
) -> None:
    """Anna's sister has the same landline: the calls from it may be either's. Neither the
    sister's record nor those calls are Anna's for certain, and a note quoting the number
    is not a mention of Anna."""
    shop.con.execute("INSERT INTO crm VALUES ('C8', 'eva@example.com', '612 345 678', 'Eva Puig')")
    shop.con.execute(
        "INSERT INTO tickets VALUES ('T8', '699 000 001', 'X', 'Call 612 345 678 back')"
    )
    ctx = service.context(shop, policy)
    match = service.find(ctx, {"customer_id": ["C1"]})
    assert set(match.rows) == {"crm", "orders", "newsletter"}  # no call is hers for sure
    assert 2 in {h.rowid for h in match.free_text}  # T3 quotes her own e-mail: a mention
    assert "phone" not in match.keys
    assert [h.kind for h in match.held_back] == ["phone"]
    possible = {p.row_ref for p in match.possible if p.table == "tickets"}
    assert {"ticket=T1"} <= possible  # reached only through the shared number
    assert 4 not in {h.rowid for h in match.free_text}
    assert not any(p.table == "crm" for p in match.possible)  # Eva: another customer


def test_sar_html_renders_in_headless_chromium(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    ctx = service.context(shop, policy)
    out = service.access_reports(ctx, {"R1": {"customer_id": ["C1"]}}, tmp_path)["R1"]
    html_file = Path(out["files"][1])
    assert "<script" not in html_file.read_text() and "src=" not in html_file.read_text()
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html_file.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-500:]
    assert "Subject-access report R1" in done.stdout
    assert "Anna Puig i Ferrer" in done.stdout


def test_identity_link_on_a_list_column(workspace: Workspace) -> None:
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    workspace.con.execute(
        "CREATE TABLE accounts AS SELECT * FROM (VALUES "
        "(1, ['Anna@Example.com', 'anna.work@example.com']), (2, ['bob@example.com']), "
        "(3, NULL)) t(id, emails)"
    )
    space = search_space(workspace, [LinkSpec("accounts", "emails", "email", "email")], [])
    assert space.links[0].list_column
    match = find_subjects(workspace, space, {"r": {"email": ["anna@example.com"]}})["r"]
    assert match.rows == {"accounts": [0]}
    assert "anna.work@example.com" in match.keys["email"]  # the other item is hers too


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One mobile number and the ways people write it: any grouping of its digits, any
    separator, with or without the country's prefix (a German extension "2345678-0"), now
    and then with an extension after it ("ext. 12", "x7", "#204", "Durchwahl: 3")."""
    digits = "151" + draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    forms = []
    for _ in range(draw(st.integers(1, 6))):
        cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
        parts = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
        seps = [draw(st.sampled_from([" ", "-", ".", "/", ""])) for _ in parts[1:]]
        if seps and seps[-1] == "." and set(parts[-1]) == {"0"}:
            # "015100.000000" reads as a float export of 015100 (as "612345678.0" is
            # one): the data cannot tell, and the key drops the zeros. Left out here.
            seps[-1] = " "
        body = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
        extension = draw(
            st.sampled_from(
                ["", "", " ext. 12", "x7", " #204", ", Durchwahl: 3", " (ext. 12)", " ext-12",
                 " ext 12 (office)", " x\u00a012", " ext. 12\u00a0"]
            )
        )  # fmt: skip
        forms.append(draw(st.sampled_from(["+49 ", "0049 ", "0", "+49"])) + body + extension)
    return digits, forms


@settings(max_examples=40, deadline=None)
@given(person=written_numbers())
def test_a_phone_is_found_however_it_is_written(person: tuple[str, list[str]]) -> None:
    """Every row carrying the person's number is found, whatever grouping and separators it
    was typed with (the cheap pre-selection of rows must never drop one); other numbers
    ending alike are not."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    digits, forms = person
    other = digits[:-3] + str((int(digits[-3]) + 1) % 10) + digits[-2:]  # same last two
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp))
        ws.con.execute("CREATE TABLE calls (id INTEGER, phone VARCHAR)")
        rows = [*forms, f"+49 {other}", f"0{other[:-1]}-{other[-1]}"]
        ws.con.executemany("INSERT INTO calls VALUES (?, ?)", list(enumerate(rows)))
        link = LinkSpec("calls", "phone", "phone", "e164", region="DE")
        space = search_space(ws, [link], [])
        match = find_subjects(ws, space, {"r": {"phone": [f"+49 {digits}"]}})["r"]
        ws.close()
    assert match.rows == {"calls": list(range(len(forms)))}, (forms, match.rows)


def test_a_number_with_an_extension_is_the_numbers_and_a_shared_switchboard_is_a_question(
    workspace: Workspace,
) -> None:
    """'612 345 678 ext. 12' carries the number 612 345 678: the row is found (an erasure
    must reach it). A switchboard shared by colleagues (the same number, other extensions,
    other names and customer ids) is judged shared: their rows are possible matches for a
    human, never the person's."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    workspace.con.execute(
        "CREATE TABLE contacts AS SELECT * FROM (VALUES "
        "('C1', 'Anna Puig', '+34 612 345 678 ext. 12'), ('C1', 'Anna Puig', '612345678 x7'), "
        "('C2', 'Pau Vidal', '699 555 444 ext. 12'), "
        "('C3', 'Marta Soler', '93 123 45 67 ext. 21'), "
        "('C4', 'Joan Ferrer', '93 123 45 67, Durchwahl: 22')) t(id, name, phone)"
    )
    workspace.con.execute(
        "CREATE TABLE calls AS SELECT * FROM (VALUES ('93 123 45 67 ext. 22'), "
        "('612 345 678 #3')) t(caller)"
    )
    links = [
        LinkSpec("contacts", "id", "customer_id", "trim"),
        LinkSpec("contacts", "phone", "phone", "e164", region="ES"),
        LinkSpec("contacts", "name", "name", "name"),
        LinkSpec("calls", "caller", "phone", "e164", region="ES"),
    ]
    space = search_space(workspace, links, [])
    found = find_subjects(workspace, space, {"r": {"phone": ["612 345 678"]}})["r"]
    assert found.rows == {"contacts": [0, 1], "calls": [1]}
    assert found.keys["customer_id"] == {"C1"}
    office = find_subjects(workspace, space, {"r": {"customer_id": ["C3"]}})["r"]
    assert office.rows == {"contacts": [3]}  # Joan's row is someone else's: not even possible
    # a call from the switchboard says nothing of who called: a question for a human
    assert [(p.table, p.rowid) for p in office.possible] == [("calls", 0)]


def test_a_phone_mentioned_in_text_is_redacted_however_it_is_written(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    """Another person's ticket mentions her number with slashes, dots or a tab: every form is
    redacted by her erasure, and the ticket stays."""
    shop.con.execute(
        "INSERT INTO tickets VALUES ('T5', '699 555 444', 'Pau Vidal', "
        "'llamar al 612/345/678, al 612.345.678 o al 612\t345\t678 mañana')"
    )
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E1": {"email": ["anna.puig@example.com"]}})
    [(cert, _)] = service.apply_erasures(ctx, clean, plans, tmp_path)
    [t5] = [r for r in _content(shop)["tickets"] if r[0] == "T5"]
    assert "345" not in t5[3] and t5[3].count("[REDACTED]") == 3, t5[3]
    assert cert["verification"]["ok"] is True


def test_an_email_with_a_display_name_is_the_persons(workspace: Workspace) -> None:
    """Mail tools export addresses as `Name <address>` or `mailto:address`: those rows are
    the person's too (an erasure must reach them); a row holding two addresses is not, and
    is a possible match for each of them."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    workspace.con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES (1, 'Anna Puig <Anna@Example.com>'), "
        "(2, 'mailto:anna@example.com'), (3, 'ANNA@example.com '), (4, 'bob@example.com'), "
        "(5, 'Anna <anna@example.com>, Bob <bob@example.com>'), "
        # the address as its own display name, as Outlook writes it; a different one
        "(6, '\"anna@example.com\" <Anna@example.com>'), "
        "(7, 'bob@example.com <anna@example.com>'), "
        "(8, 'anna@example.com <anna@example.com> <bob@example.com>')) t(id, email)"
    )
    space = search_space(workspace, [LinkSpec("newsletter", "email", "email", "email")], [])
    match = find_subjects(workspace, space, {"r": {"email": ["anna@example.com"]}})["r"]
    assert match.rows == {"newsletter": [0, 1, 2, 5]}
    # the rows naming her address among others: no one person's, but a human must see them
    assert sorted(p.rowid for p in match.possible) == [4, 6, 7]
    assert all("together with other addresses" in p.reason for p in match.possible)
    bob = find_subjects(workspace, space, {"r": {"email": ["bob@example.com"]}})["r"]
    assert bob.rows == {"newsletter": [3]}
    assert sorted(p.rowid for p in bob.possible) == [4, 6, 7]

    # the same in a batch (over 64 addresses searched at once: another way to pick rows)
    others = {f"o{i}": {"email": [f"other{i}@example.com"]} for i in range(70)}
    batch = find_subjects(workspace, space, {"r": {"email": ["anna@example.com"]}, **others})
    assert batch["r"].rows == match.rows
    assert [(p.rowid, p.reason) for p in batch["r"].possible] == [
        (p.rowid, p.reason) for p in match.possible
    ]


def test_a_value_naming_several_addresses_is_shown_in_a_batch_too(workspace: Workspace) -> None:
    """A family's newsletter entry lists two addresses with no display names: a search
    for one of them, alone or in a batch of over 64 addresses, lists the row for a human
    (before, a batch never saw it, and an erasure certified nothing left)."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    workspace.con.execute(
        "CREATE TABLE newsletter AS SELECT * FROM (VALUES (1, 'anna@example.com'), "
        "(2, 'anna@example.com; bob@example.com'), (3, 'bob@example.com,anna@example.com'), "
        "(4, 'carla@example.com bob@example.com')) t(id, email)"
    )
    space = search_space(workspace, [LinkSpec("newsletter", "email", "email", "email")], [])
    others = {f"o{i}": {"email": [f"other{i}@example.com"]} for i in range(70)}
    for requests in ({}, others):
        found = find_subjects(workspace, space, {"r": {"email": ["anna@example.com"]}, **requests})
        assert found["r"].rows == {"newsletter": [0]}
        assert sorted(p.rowid for p in found["r"].possible) == [1, 2], len(requests)


def test_slash_joined_numbers_in_text_are_not_a_phone(
    shop: Workspace, policy: Policy, tmp_path: Path
) -> None:
    """Numbering written with slashes that holds her digits ('4612/3456/7890') is not her
    number, and a number next to hers after a slash stays a separate number."""
    shop.con.execute(
        "INSERT INTO tickets VALUES ('T6', '699 555 444', 'Pau Vidal', "
        "'pedidos 4612/3456/7890'), ('T7', '699 555 444', 'Pau Vidal', "
        "'Tel 612 345 678 / 699 555 444')"
    )
    ctx = service.context(shop, policy)
    clean, plans = service.plan_erasures(ctx, {"E1": {"email": ["anna.puig@example.com"]}})
    service.apply_erasures(ctx, clean, plans, tmp_path)
    notes = {r[0]: r[3] for r in _content(shop)["tickets"]}
    assert notes["T6"] == "pedidos 4612/3456/7890"
    assert notes["T7"] == "Tel [REDACTED] / 699 555 444"


def test_a_number_with_other_leading_zeros_is_shown_in_a_large_batch_too(
    workspace: Workspace,
) -> None:
    """'0099999' in the CRM for customer 99999 is a possible match whether she is searched
    alone or in a batch of over 1,000 numeric ids (before, a batch looked at the first
    1,000 numbers only, sorted as text)."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    workspace.con.execute(
        "CREATE TABLE crm AS SELECT * FROM (VALUES ('0099999'), ('99999'), ('5')) t(customer_id)"
    )
    space = search_space(workspace, [LinkSpec("crm", "customer_id", "customer_id", "trim")], [])
    others = {f"o{i}": {"customer_id": [str(1000 + i)]} for i in range(1100)}
    for requests in ({}, others):
        found = find_subjects(workspace, space, {"r": {"customer_id": ["99999"]}, **requests})
        assert found["r"].rows == {"crm": [1]}
        assert [p.rowid for p in found["r"].possible] == [0], len(requests)


def test_tagged_rows_are_offered_alike_alone_and_in_a_batch(workspace: Workspace) -> None:
    """Nine tagged rows of her mailbox are offered for review whether she is searched alone
    or in a batch, and whichever rows of the bare mailbox a batch also reads (the limit of
    10 tags counts tagged rows only); ten tags are a shop's stand-ins, never offered."""
    from tutela.subjects.find import LinkSpec, find_subjects, search_space

    tagged = [f"shop+{i}@x.es" for i in range(9)]
    others = {f"o{i}": {"email": [f"aa{i}+t@z.es"]} for i in range(70)}
    for extra, offered in ((["Shop <shop@x.es>", "shop@x.es\u200b"], 9), (["shop+9@x.es"], 0)):
        workspace.con.execute("CREATE OR REPLACE TABLE contacts (email VARCHAR)")
        workspace.con.executemany("INSERT INTO contacts VALUES (?)", [[e] for e in tagged + extra])
        space = search_space(workspace, [LinkSpec("contacts", "email", "email", "email")], [])
        for requests in ({}, {"o": {"email": ["hop+t@x.es"]}}, others):
            found = find_subjects(workspace, space, {"r": {"email": ["shop@x.es"]}, **requests})
            assert len(found["r"].possible) == offered, (extra, len(requests))
