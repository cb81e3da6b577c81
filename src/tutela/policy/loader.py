"""Policy files into a validated `Policy`, every error located at `file:line:col`.

YAML is composed into nodes (which carry start marks), converted by hand so that every
value's position is remembered by its path, with duplicate keys, alias bombs, custom
tags and YAML 1.1 surprises (`NO` -> False) rejected or neutralised on the way. Pydantic
error locations are then mapped back to those positions.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tutela.base.errors import PolicyError
from tutela.policy.erasure_actions import ErasureAction
from tutela.policy.models import Policy
from tutela.policy.vocab import suggest

MAX_FILE_BYTES = 1 << 20
MAX_VALUES = 50_000  # values built, counting each alias expansion (billion-laughs guard)
MAX_DEPTH = 40
POLICY_SUFFIXES = (".yaml", ".yml")
ENV_POLICY = "TUTELA_POLICY"
DEFAULT_POLICY_PATH = "policies"

Path_ = tuple[str | int, ...]

# -- results and errors ------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a policy file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Issue:
    """One problem with a policy: where, what, what was expected, how to fix it."""

    mark: Mark
    message: str
    path: str = ""
    expected: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        text = f"{self.mark}: {where}{self.message}"
        if self.expected:
            text += f"\n    expected: {self.expected}"
        if self.hint:
            text += "\n    hint: " + self.hint.replace("\n", "\n    ")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.mark.file,
            "line": self.mark.line,
            "column": self.mark.column,
            "path": self.path,
            "message": self.message,
            "expected": self.expected,
            "hint": self.hint,
        }


class PolicyInvalidError(PolicyError):
    """The policy cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.mark.file, i.mark.line, i.mark.column))
        count = len(self.issues)
        body = "\n".join(str(i) for i in self.issues)
        super().__init__(
            f"invalid policy: {count} problem{'s' if count != 1 else ''}\n{body}",
            hint="fix every problem listed; tutela never falls back to a default policy",
        )


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of the policy document was written."""

    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> Mark:
        """The mark of `path`, or of its nearest ancestor that was written."""
        for n in range(len(path), -1, -1):
            prefix = path[:n]
            if key and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return next(iter(self.values.values()), Mark("<policy>", 1, 1))


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy and where it came from."""

    policy: Policy
    files: tuple[Path, ...]
    source_map: SourceMap

    def locate(self, path: Path_) -> Mark:
        return self.source_map.locate(path)

    def unfinished(self) -> list[str]:
        """`file:line: ...` for every TODO a draft left (a value, or a `# TODO` comment):
        such a policy is valid but not yet true (`name: TODO your company`)."""
        found = []
        for file in self.files:
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for number, line in enumerate(lines, start=1):
                code, _, comment = line.partition("#")
                if re.search(r"\bTODO\b", code) or re.match(r"\s*TODO\b", comment):
                    found.append(f"{file}:{number}: still says TODO: {line.strip()[:100]}")
        return found


# -- YAML with positions ---------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that resolves only YAML 1.2 booleans and keeps dates as text."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STANDARD_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
}


def _mark(file: str, m: yaml.Mark | None) -> Mark:
    return Mark(file, m.line + 1, m.column + 1) if m else Mark(file, 1, 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.smap = SourceMap()
        self.issues: list[Issue] = []
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def issue(self, m: yaml.Mark | None, message: str, hint: str | None = None) -> None:
        self.issues.append(Issue(_mark(self.file, m), message, hint=hint))

    def build(self, node: yaml.Node, path: Path_, active: tuple[int, ...] = ()) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _Abort(
                node.start_mark,
                f"document expands to more than {MAX_VALUES} values (YAML alias bomb?)",
                "policies never need this many values; remove the repeated aliases (*name)",
            )
        if len(path) > MAX_DEPTH:
            raise _Abort(node.start_mark, f"document nested deeper than {MAX_DEPTH} levels")
        if id(node) in active:
            raise _Abort(node.start_mark, "recursive alias: a node contains itself")
        self.smap.values.setdefault(path, _mark(self.file, node.start_mark))
        if node.tag not in _STANDARD_TAGS:
            self.issue(
                node.start_mark,
                f"unsupported YAML tag {node.tag!r}",
                "policies use plain YAML values; remove the tag",
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, KeyError) as exc:  # `!!int abc`, `!!bool maybe`
                self.issue(node.start_mark, f"cannot read value: {exc}")
                return None
        inner = (*active, id(node))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), inner) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        return self.build_mapping(node, path, inner)

    def build_mapping(self, node: yaml.MappingNode, path: Path_, active: tuple[int, ...]) -> Any:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, yaml.Mark] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        self.issue(source.start_mark, "a merge key (<<) needs a mapping")
                        continue
                    for k, v in self.build_mapping(source, path, active).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _STANDARD_TAGS:
                self.issue(key_node.start_mark, "mapping keys must be plain text")
                continue
            try:
                key = self.constructor.construct_object(key_node, deep=True)
            except (yaml.YAMLError, ValueError, KeyError) as exc:
                self.issue(key_node.start_mark, f"cannot read key: {exc}")
                continue
            if isinstance(key, str | int | float | bool) or key is None:
                pass
            else:  # pragma: no cover - scalars always construct to these
                key = str(key)
            if key in first_seen:
                first = first_seen[key]
                self.issue(
                    key_node.start_mark,
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    "YAML keeps only one of them silently; remove or rename one",
                )
                continue
            first_seen[key] = key_node.start_mark
            child = (*path, key)
            self.smap.keys[child] = _mark(self.file, key_node.start_mark)
            result[key] = self.build(value_node, child, active)
        for k, v in merged.items():
            result.setdefault(k, v)
        return result


class _Abort(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.hint = hint


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Issue]]:
    """Parse one YAML document, keeping positions; returns (data, source map, issues)."""
    builder = _Builder(file)
    try:
        root = yaml.compose(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        message = f"invalid YAML: {problem}{context}"
        hint = None
        if "expected a single document" in message:
            hint = "a policy file holds one document; split it into files in a directory"
        elif "\t" in text and "tab" in problem:
            hint = "indent with spaces, not tabs"
        return None, builder.smap, [Issue(_mark(file, exc.problem_mark), message, hint=hint)]
    except yaml.YAMLError as exc:
        return None, builder.smap, [Issue(Mark(file, 1, 1), f"invalid YAML: {exc}")]
    except RecursionError:  # PyYAML composes recursively: `[[[[...` would crash it
        message = f"document nested deeper than {MAX_DEPTH} levels"
        return None, builder.smap, [Issue(Mark(file, 1, 1), message)]
    if root is None:
        return (
            None,
            builder.smap,
            [
                Issue(
                    Mark(file, 1, 1),
                    "the policy file is empty",
                    expected="a mapping with version, subjects, tables, purposes, ...",
                    hint="generate a draft with `tutela policy init`",
                )
            ],
        )
    try:
        data = builder.build(root, ())
    except _Abort as exc:
        return None, builder.smap, [Issue(_mark(file, exc.mark), exc.message, hint=exc.hint)]
    if not isinstance(data, dict) and not builder.issues:
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r})"
        builder.issue(
            root.start_mark,
            f"the policy must be a mapping of sections, not {kind}",
            "start the file with `version: 1` then `tables:`, `purposes:` ...",
        )
    return data, builder.smap, builder.issues


# -- discovery and merging ---------------------------------------------------------------


def discover(path: str | Path) -> list[Path]:
    """The policy files at `path`: the file itself, or every *.yaml/*.yml below a directory."""
    root = Path(path)
    if root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*")
            if p.suffix in POLICY_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not files:
            raise PolicyError(
                f"no policy files (*.yaml) in {root}",
                hint="write one with `tutela policy init > policies/acme.yaml`",
            )
        return files
    if root.is_file():
        return [root]
    raise PolicyError(
        f"policy not found: {root}",
        hint="pass --policy FILE|DIR (or set TUTELA_POLICY), or create one with "
        "`tutela policy init > policies/acme.yaml`",
    )


_MERGED_MAPPINGS = ("subjects", "tables", "purposes", "roles")
_MERGED_LISTS = ("retention",)


def _read(file: Path) -> tuple[str | None, list[Issue]]:
    name = str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Issue(Mark(name, 1, 1), f"cannot read policy file: {exc.strerror}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Issue(Mark(name, 1, 1), f"policy file is larger than {MAX_FILE_BYTES} bytes")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [Issue(Mark(name, 1, 1), f"policy file is not UTF-8 text ({exc.reason})")]


def load_document(files: list[Path]) -> tuple[dict[str, Any], SourceMap, list[Issue]]:
    """Parse and merge the files into one document (mappings merged, lists appended)."""
    merged: dict[str, Any] = {}
    smap = SourceMap()
    issues: list[Issue] = []
    owner: dict[Path_, Mark] = {}
    for file in files:
        text, read_issues = _read(file)
        issues += read_issues
        if text is None:
            continue
        data, fmap, parse_issues = parse_yaml(text, str(file))
        issues += parse_issues
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            kmark = fmap.keys.get((key,), Mark(str(file), 1, 1))
            offset = 0
            if key in _MERGED_MAPPINGS and isinstance(value, dict):
                target = merged.setdefault(key, {})
                if not isinstance(target, dict):
                    target = {}
                for name, item in value.items():
                    if name in target:
                        issues.append(
                            Issue(
                                fmap.keys.get((key, name), kmark),
                                f"{key}.{name} is declared twice "
                                f"(also at {owner.get((key, name), '?')})",
                                hint="each entry lives in exactly one policy file",
                            )
                        )
                        continue
                    target[name] = item
                    owner[(key, name)] = fmap.keys.get((key, name), kmark)
            elif key in _MERGED_LISTS and isinstance(value, list):
                target_list = merged.setdefault(key, [])
                offset = len(target_list)
                target_list.extend(value)
            elif key == "version" and merged.get("version", value) == value:
                merged[key] = value
            elif key in merged:
                issues.append(
                    Issue(
                        kmark,
                        f"section {key!r} is declared in more than one file "
                        f"(also at {owner.get((key,), '?')})",
                        hint="keep this section in a single policy file",
                    )
                )
                continue
            else:
                merged[key] = value
                owner[(key,)] = kmark
            _copy_marks(fmap, smap, key, offset)
    return merged, smap, issues


def _copy_marks(src: SourceMap, dst: SourceMap, section: str, offset: int) -> None:
    for table_name, target in ((src.values, dst.values), (src.keys, dst.keys)):
        for path, mark in table_name.items():
            if not path or path[0] != section:
                continue
            if offset and len(path) > 1 and isinstance(path[1], int):
                path = (section, path[1] + offset, *path[2:])
            target.setdefault(path, mark)
    if () in src.values:
        dst.values.setdefault((), src.values[()])


# -- validation ------------------------------------------------------------------------


def validate_document(data: dict[str, Any], smap: SourceMap) -> tuple[Policy | None, list[Issue]]:
    """Validate a parsed document: schema errors first, then cross-references."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        return None, _schema_issues(exc, smap)
    issues = [
        Issue(
            smap.locate(ref.path, key=ref.at_key),
            ref.message,
            path=_dotted(ref.path),
            hint=ref.hint,
        )
        for ref in policy.reference_issues()
    ]
    return policy, issues


def load_policy(path: str | Path) -> LoadedPolicy:
    """Load, merge and validate the policy at `path`; raises PolicyInvalidError listing all."""
    files = discover(path)
    data, smap, issues = load_document(files)
    if issues:
        raise PolicyInvalidError(issues)
    policy, issues = validate_document(data, smap)
    if issues or policy is None:
        raise PolicyInvalidError(issues)
    return LoadedPolicy(policy, tuple(files), smap)


def load_policy_text(text: str, name: str = "<policy>") -> Policy:
    """Validate policy YAML held in memory (used for drafts and tests)."""
    data, smap, issues = parse_yaml(text, name)
    if issues or not isinstance(data, dict):
        raise PolicyInvalidError(issues)
    policy, issues = validate_document(data, smap)
    if issues or policy is None:
        raise PolicyInvalidError(issues)
    return policy


def _dotted(path: Path_) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else (args[0] if len(args) == 1 else tp)
            if not models and len(args) != 1:
                return tp
        else:
            return tp


def _type_at(path: Path_) -> Any:
    """The declared type at a document path (walking models, dicts and lists), or None."""
    tp: Any = Policy
    for seg in path:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found = None
            for name, info in tp.model_fields.items():
                if (info.alias or name) == seg:
                    found = info.annotation
            if found is None:
                return None
            tp = found
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        else:
            return None
    return _unwrap(tp)


def _keys_of(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [info.alias or name for name, info in tp.model_fields.items()]
    return []


def _enum_values(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(m.value) for m in tp]
    if isinstance(tp, type) and issubclass(tp, ErasureAction):  # a registry, not an enum
        return tp.choices()
    return []


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return f"text ({value!r})"


def _resolve(loc: tuple[str | int, ...], smap: SourceMap) -> tuple[Path_, bool, bool]:
    """Map a pydantic `loc` to a document path; (path, points-at-key, skipped-segments)."""
    path: Path_ = ()
    at_key = False
    skipped = False
    for seg in loc:
        if seg == "[key]":
            at_key = True
            continue
        candidate = (*path, seg)
        if candidate in smap.values or candidate in smap.keys:
            path = candidate
        else:
            skipped = True
    return path, at_key, skipped


def _schema_issues(exc: ValidationError, smap: SourceMap) -> list[Issue]:
    groups: dict[tuple[Path_, bool], list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] in ("missing", "extra_forbidden"):
            path: Path_ = loc
            groups.setdefault((path, err["type"] == "extra_forbidden"), []).append(dict(err))
            continue
        path, at_key, _ = _resolve(loc, smap)
        groups.setdefault((path, at_key), []).append(dict(err))
    issues: list[Issue] = []
    for (path, at_key), errs in groups.items():
        if len(errs) > 1 and all(e["type"] not in ("missing", "extra_forbidden") for e in errs):
            # a union (e.g. a scalar of several types) reports once per branch: merge them
            value = errs[0].get("input")
            issues.append(
                Issue(
                    smap.locate(path, key=at_key),
                    f"invalid value {_yaml_kind(value)}",
                    path=_dotted(path),
                    expected=" or ".join(dict.fromkeys(_expected(e) or e["msg"] for e in errs)),
                )
            )
            continue
        issues += [_one_issue(e, path, at_key, smap) for e in errs]
    return issues


def _expected(err: dict[str, Any]) -> str | None:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind in ("enum", "literal_error"):
        return f"one of {ctx.get('expected', '')}"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    if kind == "too_short":
        return f"at least {ctx.get('min_length', 1)} item(s)"
    if kind == "string_too_short":
        return "non-empty text"
    return None


def _one_issue(err: dict[str, Any], path: Path_, at_key: bool, smap: SourceMap) -> Issue:
    kind = err["type"]
    value = err.get("input")
    dotted = _dotted(path)
    hint: str | None
    if kind == "missing":
        parent, name = path[:-1], str(path[-1])
        tp = _type_at(path)
        values = _enum_values(tp)
        example = values[0] if values else "..."
        hint = f"add `{name}: {example}`"
        if values:
            hint += f" (one of: {', '.join(values)})"
        return Issue(
            smap.locate(parent, key=True),
            f"missing required key {name!r}",
            path=_dotted(parent),
            expected=f"a `{name}:` entry",
            hint=hint,
        )
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = _keys_of(_type_at(path[:-1]))
        close = suggest(name, allowed)
        return Issue(
            smap.locate(path, key=True),
            f"unknown key {name!r}",
            path=_dotted(path[:-1]),
            expected=f"one of: {', '.join(allowed)}" if allowed else None,
            hint=f"did you mean {close!r}?" if close else "remove it (unknown keys are errors)",
        )
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    hint = None
    if kind in ("enum", "literal_error"):
        message = f"invalid value {value!r}"
        close = suggest(str(value), _enum_values(_type_at(path)))
        hint = f"did you mean {close!r}?" if close else None
    elif kind in _TYPE_WORDS:
        message = f"wrong type: got {_yaml_kind(value)}"
    elif "\nwrite:" in message or ";  write:" in message or "write:\n" in message:
        message, _, example = message.partition("write:\n")
        message = message.rstrip("; ").rstrip()
        hint = "write:\n" + example if example else None
    elif at_key:
        message = f"invalid key {value!r}: {message}"
    return Issue(
        smap.locate(path, key=at_key),
        message,
        path=dotted,
        expected=_expected(err),
        hint=hint,
    )
