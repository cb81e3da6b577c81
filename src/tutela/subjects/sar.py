"""Subject-access reports (GDPR Art. 15, with the Art. 20 portable copy as JSON)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from tutela import __version__
from tutela.base.normalize import key_sql
from tutela.policy.models import Policy
from tutela.subjects.find import SearchSpace, SubjectMatch, rows_by_table
from tutela.subjects.policyview import table_info
from tutela.subjects.systems import access_systems, copies_written
from tutela.workspace import INTERNAL, Workspace, json_list, quote_ident

ADM_DEFAULT = (
    "The controller's policy declares no automated decision-making, including profiling, "
    "that produces legal or similarly significant effects for you (GDPR Art. 22)."
)
RIGHTS = (
    "You may ask for rectification (Art. 16) or erasure (Art. 17) of your data, restriction "
    "of (Art. 18) or objection to (Art. 21) its processing, a portable copy (Art. 20: the "
    "JSON version of this report), and you may complain to a supervisory authority (Art. 77)."
)


def _provenance(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.con.execute(
        f"SELECT table_name, source_system, path, sheet, sha256, loaded_at FROM {INTERNAL}.sources"
    ).fetchall()
    return {
        r[0]: {
            "source_system": r[1],
            "file": PurePath(str(r[2])).name,  # never the controller's directories
            "sheet": r[3],
            "sha256": r[4],
            "loaded_at": r[5].isoformat() if r[5] else None,
        }
        for r in rows
    }


def consent_history(ws: Workspace, policy: Policy, match: SubjectMatch) -> list[dict[str, Any]]:
    """Consent events for the person, newest last, from the policy's consent source."""
    source = policy.consent
    if source is None or not ws.has_table(source.table):
        return []
    kind = str(source.subject_kind)
    keys = sorted(match.keys.get(kind, set()))
    if not keys:
        return []
    norm = "email" if kind == "email" else "e164" if kind == "phone" else "trim"
    key = key_sql(quote_ident(source.subject_column), norm)
    src = f", CAST({quote_ident(source.source_column)} AS VARCHAR)" if source.source_column else ""
    rows = ws.con.execute(
        f"SELECT CAST({quote_ident(source.purpose_column)} AS VARCHAR), "
        f"CAST({quote_ident(source.status_column)} AS VARCHAR), "
        f"CAST({quote_ident(source.timestamp_column)} AS VARCHAR){src} "
        f"FROM {ws.whole_relation(source.table)} WHERE {key} IN "
        "(SELECT UNNEST(CAST(?::JSON AS VARCHAR[]))) ORDER BY 3",
        [json_list(keys)],
    ).fetchall()
    policy_name = {source.purpose_value(p): p for p in policy.purposes}  # tool value -> policy
    return [
        {
            "purpose": policy_name.get(str(r[0]), r[0]),
            "status": r[1],
            "recorded_at": r[2],
            "source": r[3] if source.source_column else None,
        }
        for r in rows
    ]


def build_sar(
    ws: Workspace,
    policy: Policy,
    space: SearchSpace,
    match: SubjectMatch,
    identifiers: Mapping[str, Sequence[str]],
    *,
    request_id: str,
) -> dict[str, Any]:
    """The whole report as plain data: the JSON rendering is the portable copy."""
    provenance = _provenance(ws)
    tables = []
    for table in sorted(match.rows):
        columns, rows = rows_by_table(ws, table, match.rows[table])
        info = table_info(policy, table)
        tables.append(
            {
                "table": table,
                "provenance": provenance.get(table),
                **info,
                "columns": columns,
                "rows": rows,
            }
        )
    mentions: dict[tuple[str, str], list[int]] = {}
    for hit in match.free_text:
        mentions.setdefault((hit.table, hit.column), []).append(hit.rowid)
    free_text = []
    for (table, column), rowids in sorted(mentions.items()):
        _, rows = rows_by_table(ws, table, rowids)
        free_text.append(
            {
                "table": table,
                "column": column,
                "mentions": len(rowids),
                "texts": [r.get(column) for r in rows],
            }
        )
    org = policy.organisation
    return {
        "report": "subject-access",
        "request_id": request_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": f"tutela {__version__}",
        "controller": (
            {"name": org.name, "country": org.country, "contact": org.contact, "dpo": org.dpo}
            if org
            else None
        ),
        "identifiers_searched": {k: list(v) for k, v in identifiers.items()},
        "data_held": bool(match.rows or match.free_text),
        "summary": {
            "tables": len(match.rows),
            "rows": match.row_count(),
            "free_text_mentions": len(match.free_text),
            "possible_matches_for_review": len(match.possible),
        },
        "tables": tables,
        "free_text_mentions": free_text,
        "consent": consent_history(ws, policy, match),
        "held_back": [h.to_dict() for h in match.held_back],
        "possible_matches": [p.public_dict() for p in match.possible],
        "confirmed_by_review": {t: len(r) for t, r in sorted(match.confirmed.items())},
        "systems": access_systems(ws, match),
        "copies_written": copies_written(ws, sorted(match.rows), {}),
        "automated_decision_making": ADM_DEFAULT,
        "your_rights": RIGHTS,
        "not_searched": space.skipped,
    }
