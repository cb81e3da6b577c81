"""The erasure certificate in Markdown: what was done where, the systems and what is owed at
each source, earlier copies, and the physical erasure of the workspace file. The certificate
itself (a dict, also written as JSON) is built by `subjects.erase.certificate`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def lists_others_note(table: Mapping[str, Any], *, done: bool = False) -> str | None:
    """A table of a plan or certificate (`TablePlan.to_dict`): what its action removes that
    may be other people's, in a sentence (None: nothing). `done`: it was applied."""
    others: dict[str, int] = table.get("rows_listing_others") or {}
    if not others:
        return None
    return (
        f"{table['table']}: of its {table['rows']} row(s), some list items not shown to be "
        "the person's (another member of a household or a card, maybe), in "
        + ", ".join(f"{c} ({n} row(s))" for c, n in sorted(others.items()))
        + f": {table['action']} {'removed' if done else 'removes'} them too"
    )


def certificate_markdown(cert: Mapping[str, Any]) -> str:
    v = cert["verification"]
    lines = [
        f"# Erasure certificate — request {cert['request_id']}",
        "",
        f"- Completed: {cert['completed_at']}",
        f"- Key id for identifier hashes: `{cert['key_id']}`",
        f"- Audit entry: #{cert['audit_entry']['seq']} `{cert['audit_entry']['hash']}`",
        f"- Verification: **{'passed' if v['ok'] else 'FAILED'}** "
        f"({v['searched_identifiers']} identifiers searched again)",
        "",
    ]
    earlier = cert.get("earlier_erasures") or []
    if earlier:
        lines += ["## Erased earlier under this request", ""]
        for e in earlier:
            done = "; ".join(
                f"{table}: " + ", ".join(f"{n} {what}" for what, n in sorted(c.items()))
                for table, c in sorted(e["counts"].items())
            )
            lines.append(f"- audit entry #{e['audit_entry']} ({e['logged_at']}): {done}")
        lines.append("")
    same = cert.get("same_rows_as") or {}
    if same:
        lines += ["## The same rows under other requests of this run", ""]
        lines += [
            f"- request {other}: {n} of the rows below (changed once, counted under both)"
            for other, n in same.items()
        ]
        lines.append("")
    if not cert["found"]:
        lines += [
            "No personal data was found for the identifiers given"
            + (" (erased earlier, above)" if earlier else "")
            + "; nothing to erase now.",
            "",
        ]
    else:
        lines += [
            "| table | action | rows | columns | legal basis | reason |",
            "|---|---|---|---|---|---|",
        ]
        for t in cert["tables"]:
            lines.append(
                f"| {t['table']} | {t['action']} | {t['rows']} | {', '.join(t['columns'])} | "
                f"{t['legal_basis'] or ''} | {(t['reason'] or '').replace('|', '/')} |"
            )
        lines.append("")
        notes = [f"- {note}" for t in cert["tables"] if (note := lists_others_note(t, done=True))]
        lines += [*notes, ""] if notes else []
        lines += [
            f"Free-text mentions redacted: {cert['free_text_redactions']}.",
            f"Possible matches left for human review: {cert['possible_matches_for_review']}.",
            "",
        ]
    if cert.get("not_searched"):
        lines += ["## Not searched", ""]
        lines += [f"- {note}" for note in cert["not_searched"]]
        lines.append("")
    if cert.get("held_back"):
        lines += [
            "## Identifiers shared with other people (rows reached only through them "
            "were not erased)",
            "",
        ]
        lines += [
            f"- {h['kind'].replace('_', ' ')} `{h['value']}`: {h['status']}, {h['why']}; "
            f"{h['rows_held_back']} row(s) held back for review"
            for h in cert["held_back"]
        ]
        lines.append("")
    lines += _live_markdown(cert.get("live_sources", []))
    if v["residue"]:
        lines += ["## Residue found after erasure", ""]
        lines += [
            f"- {r['table']}{'.' + r['column'] if 'column' in r else ''}: {r['rows']} row(s)"
            for r in v["residue"]
        ]
        lines.append("")
    lines.append(systems_markdown(cert))
    lines.append(
        "Identifiers appear only as keyed hashes (HMAC-SHA256); record ids needed to act at "
        "a source system appear in clear."
    )
    return "\n".join(lines) + "\n"


def _live_markdown(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    if not entries:
        return []
    lines = ["## Live databases: what remains in storage", ""]
    for e in entries:
        state = "done" if e["done"] else "NOT done"
        lines.append(f"- {e['table']} ({e['kind']}): {e['method']} — physical removal {state}")
        if e["note"]:
            lines.append(f"  - {e['note']}")
        if e.get("file_check"):  # lake tables: every file of the table read (lake.py)
            lines.append(f"  - files of the table: {e['file_check']}")
        if e.get("time_travel"):
            lines.append(f"  - time travel: {e['time_travel']}")
        lines += [f"  - may remain: {r}" for r in e["remaining"]]
    return [*lines, ""]


def systems_markdown(cert: Mapping[str, Any]) -> str:
    """The certificate's sections on systems, earlier copies and the physical erasure."""
    lines: list[str] = []
    systems = cert.get("systems") or []
    if systems:
        lines += [
            "## Systems",
            "",
            "| system | erased | tables | rows | owed at the source |",
            "|---|---|---|---|---|",
        ]
        for s in systems:
            where = {"in_place": "in place (live database)", "copy": "in the loaded copy only"}
            erased = where[s["mode"]] if s["state"] != "kept" else "kept (legal basis)"
            lines.append(
                f"| {_cell(s['system'])} | {erased} | "
                f"{_cell(', '.join(t['table'] for t in s['tables']))} | {s['rows']} | "
                f"{_cell(s.get('action_owed') or '-')} |"
            )
        lines.append("")
        for s in systems:
            copied = [t for t in s["tables"] if t["file"] and t["owed"]]
            if not copied:
                continue
            lines.append(f"### {_cell(s['system'])}: what to do at the source")
            lines.append("")
            for t in copied:
                lines.append(
                    f"- `{_cell(t['table'])}` from `{_cell(Path(str(t['file'])).name)}`"
                    + (f" (sheet {_cell(t['sheet'])})" if t["sheet"] else "")
                    + f", sha256 `{t['sha256']}`, loaded {t['loaded_at']}: {t['owed']}"
                )
                for k in t["record_keys"]:
                    more = f" (+{k['more']} more)" if "more" in k else ""
                    values = ", ".join(f"`{_cell(v)}`" for v in k["values"])
                    lines.append(f"  - {_cell(k['column'])} = {values}{more}")
                for h in t["identifiers_hashed"]:
                    lines.append(
                        f"  - {_cell(h['column'])} ({h['kind']}): keyed hash "
                        + ", ".join(f"`{x}`" for x in h["hashes"])
                    )
            lines.append("")
    copies = cert.get("copies_written") or []
    if copies:
        lines += ["## Files Tutela wrote earlier that held this person", ""]
        for c in copies:
            what = c.get("file") or f"request {c.get('request_id')}"
            lines.append(
                f"- {c['kind']} `{_cell(str(what))}`, {c['at'][:19]} (audit #{c['audit_seq']}): "
                f"holds the person: {c['holds_person']}; delete it if it is no longer needed"
            )
        lines.append("")
    phys = cert.get("physical")
    if phys:
        lines += ["## Physical erasure", "", f"- {phys['summary']}"]
        rw = phys.get("rewrite")
        if rw:
            lines.append(
                f"- Workspace file rewritten: {rw['size_before']:,} → {rw['size_after']:,} bytes"
                + ("; the old file's blocks were zeroed" if rw["old_file_zeroed"] else "")
            )
        if phys.get("rewrite_error"):
            lines.append(f"- NOT rewritten: {_cell(phys['rewrite_error'])}")
        lines.append(f"- Files searched: {', '.join(phys['files_searched'])}")
        if phys["values_kept_under_legal_basis"]:
            lines.append(
                f"- {phys['values_kept_under_legal_basis']} value(s) stay in rows kept under a "
                "legal basis and were not searched"
            )
        for h in phys["still_held"]:
            lines.append(
                f"- a value from {', '.join(h['from'])} is still held in "
                f"{', '.join(h['held_in'])} (not erased)"
            )
        for r in phys["residue"]:
            files = ", ".join(r["files"])
            lines.append(f"- RESIDUE: a value from {', '.join(r['from'])} in {files}")
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")
