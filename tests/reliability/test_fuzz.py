"""Hypothesis over the loaders, the policy parser and the request-file parser: every input
either succeeds or fails with a TutelaError carrying a message; nothing else escapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela.base.errors import TutelaError
from tutela.ingest.load import load_files
from tutela.policy.loader import load_policy, load_policy_text
from tutela.subjects.requests import read_requests
from tutela.workspace import Workspace

from .conftest import fuzz_examples

pytestmark = pytest.mark.reliability

N = fuzz_examples(100)
FUZZ = settings(
    max_examples=N,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "cp1250", "iso-8859-7", "cp1251", "latin-1"]
cell = st.text(
    st.characters(blacklist_categories=("Cs",), max_codepoint=0x3FF), max_size=12
) | st.sampled_from(["", '"', '""', "a,b", "x\ny", "08001", "1.5", "2024-01-02", "true", "NULL"])


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    ncols = draw(st.integers(1, 6))
    rows = draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), max_size=8))
    header = draw(st.lists(cell, min_size=ncols, max_size=ncols))
    quote = draw(st.booleans())

    def line(values: list[str]) -> str:
        if quote:
            return delim.join('"' + v.replace('"', '""') + '"' for v in values)
        return delim.join(values)

    text = "\r\n".join(line(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n"]))
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    if draw(st.booleans()):  # damage a few bytes
        cut = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 1 :]
    return draw(st.sampled_from([".csv", ".tsv", ".txt"])), data


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cell
json_values = st.recursive(
    json_leaf,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(cell, kids, max_size=4),
    max_leaves=30,
)


@st.composite
def json_files(draw: st.DrawFn) -> tuple[str, bytes]:
    docs = draw(st.lists(json_values, min_size=0, max_size=5))
    if draw(st.booleans()):
        return ".jsonl", "\n".join(json.dumps(d) for d in docs).encode()
    depth = draw(st.integers(0, 200))
    return ".json", ("[" * depth + json.dumps(docs) + "]" * depth).encode()


random_files = st.tuples(
    st.sampled_from([".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet", ".xlsx"]),
    st.binary(max_size=600),
)


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path]]:
    root = tmp_path_factory.mktemp("fuzz")
    ws = Workspace.open(root / "ws")
    try:
        yield ws, root
    finally:
        ws.close()


def _check_load(ws: Workspace, root: Path, suffix: str, data: bytes) -> None:
    path = root / f"input{suffix}"
    path.write_bytes(data)
    try:
        results = load_files(ws, [path], table="fuzzed", replace=True)
    except TutelaError as exc:
        assert str(exc).strip()
        return
    for r in results:
        assert r.status in ("loaded", "replaced", "unchanged", "failed"), r
        if r.status == "failed":
            assert isinstance(r.error, TutelaError) and str(r.error).strip()


@FUZZ
@given(f=csv_files())
def test_fuzz_csv_dialects_and_encodings(
    fuzz_ws: tuple[Workspace, Path], f: tuple[str, bytes]
) -> None:
    _check_load(*fuzz_ws, *f)


@FUZZ
@given(f=json_files())
def test_fuzz_json_nesting(fuzz_ws: tuple[Workspace, Path], f: tuple[str, bytes]) -> None:
    _check_load(*fuzz_ws, *f)


@FUZZ
@given(f=random_files)
def test_fuzz_random_bytes(fuzz_ws: tuple[Workspace, Path], f: tuple[str, bytes]) -> None:
    _check_load(*fuzz_ws, *f)


# -- the policy parser --------------------------------------------------------------------

KEYS = ["version", "subjects", "tables", "purposes", "retention", "roles", "erasure",
        "consent", "columns", "identifiers", "table", "column", "kind", "period", "after",
        "legal_basis", "action", "default", "x", "1"]  # fmt: skip
yaml_leaf = (
    st.none() | st.booleans() | st.integers() | st.sampled_from(["1 year", "delete", "crm"]) | cell
)
yaml_values = st.recursive(
    yaml_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(KEYS), kids, max_size=5)
    ),
    max_leaves=40,
)


def _check_policy(text: str) -> None:
    try:
        load_policy_text(text)
    except TutelaError as exc:
        assert str(exc).strip()


@FUZZ
@given(doc=yaml_values)
def test_fuzz_policy_structures(doc: object) -> None:
    _check_policy(yaml.safe_dump(doc))


@FUZZ
@given(text=st.text(max_size=400))
def test_fuzz_policy_random_text(text: str) -> None:
    _check_policy(text)


@FUZZ
@given(
    base=yaml_values,
    cut=st.integers(0, 10_000),
    junk=st.sampled_from(["&a ", "*a", "!!python/object:os.system ", ": :", "- [", "{", "\t", "%"]),
)
def test_fuzz_policy_mutated(base: object, cut: int, junk: str) -> None:
    text = yaml.safe_dump(base)
    cut %= len(text) + 1
    _check_policy(text[:cut] + junk + text[cut:])


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


ADVERSARIAL_POLICIES = {
    "billion laughs": _bomb(9),
    "recursive alias": "a: &a [*a]\n",
    "deep flow sequence": "[" * 5000 + "]" * 5000,
    "deep flow mapping": "{a: " * 3000 + "1" + "}" * 3000,
    "deep block mapping": "".join(" " * i + f"k{i}:\n" for i in range(2000)),
    "deep block sequence": "- " * 3000 + "x\n",
    "python tag": "version: !!python/object/apply:os.system ['true']\n",
    "custom tag": "version: !Ref 1\n",
    "duplicate keys": "version: 1\nversion: 2\n",
    "huge document": "version: 1\ntables: [" + "t, " * 60_000 + "]\n",  # > 50,000 values
    "many documents": "version: 1\n---\nversion: 1\n",
    "binary": "\x00\x01\x02\ufffe",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_POLICIES))
def test_adversarial_policies_fail_closed(name: str, tmp_path: Path) -> None:
    text = ADVERSARIAL_POLICIES[name]
    with pytest.raises(TutelaError) as exc:
        load_policy_text(text)
    assert str(exc.value).strip()
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TutelaError):  # the same through a file (with the size limit)
        load_policy(path)


# -- the request-file parser --------------------------------------------------------------

REQ_COLUMNS = ["request_id", "type", "email", "phone", "customer_id", "received_at", "x"]


@st.composite
def request_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["csv", "jsonl", "bytes"]))
    if kind == "bytes":
        return draw(st.sampled_from([".csv", ".jsonl", ".json"])), draw(st.binary(max_size=400))
    if kind == "jsonl":
        lines = draw(
            st.lists(
                json_values | st.dictionaries(st.sampled_from(REQ_COLUMNS), json_values), max_size=5
            )
        )
        return ".jsonl", "\n".join(json.dumps(v) for v in lines).encode()
    cols = draw(st.lists(st.sampled_from(REQ_COLUMNS) | cell, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(cell | st.sampled_from(["erasure", "access", "2026-01-02"]),
                                  min_size=0, max_size=len(cols) + 1), max_size=5))  # fmt: skip
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    text = "\n".join(delim.join(r) for r in [cols, *rows])
    return ".csv", text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@FUZZ
@given(f=request_files())
def test_fuzz_request_files(tmp_path_factory: pytest.TempPathFactory, f: tuple[str, bytes]) -> None:
    suffix, data = f
    path = tmp_path_factory.mktemp("req") / f"requests{suffix}"
    path.write_bytes(data)
    try:
        rows = read_requests(path)
    except TutelaError as exc:
        assert str(exc).strip()
        return
    for row in rows:
        assert row.error is None or row.error.strip()
