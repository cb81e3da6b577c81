"""Possible matches by name: Tutela's hand-written matcher against splink, on generated data.

A synthetic CRM of N people (default 100,000: given name and one or two surnames drawn with
Zipf frequencies from src/tutela/data/names_*.txt, so common names have many namesakes;
birth date, postcode, phone) and ~1,000 sign-ups (e-mail not in the CRM, a name, and a birth
date, postcode or phone) with ground truth: which CRM row, if any, is the same person.
Kinds of sign-up: the exact name; one typo (substitution, deletion, insertion,
transposition) at a random position of the given name or of a surname; typos in both;
swapped given/family names; merged and split words; lost accents and case; corroboration
by postcode or by a phone sharing the last four digits only; a birth date with a typo;
the name alone; and negatives (namesakes with another birth date, common names without
corroboration, similar given names such as Joan/Joana with another birth date, strangers).

Measured for (a) Tutela (`find_subjects`: every sign-up in one batch, and one request at a
time on a sample) and (b) splink on DuckDB, if installed (`pip install splink`; it is not a
dependency of Tutela): recall, precision, the mean number of possible matches per sign-up
(the review list), and wall time. See docs/matching.md for the method and the figures.

Usage: python benchmarks/names.py [N_CRM] [--queries Q] [--single S] [--seed S]
                                  [--no-splink] [--json PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import logging
import pstats
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import duckdb

from tutela.policy.loader import load_policy
from tutela.subjects import service
from tutela.subjects.find import find_subjects
from tutela.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "src" / "tutela" / "data"
LANGS = {  # share of the CRM; how many surnames (probability of a second one)
    "es": (0.28, 0.9),
    "ca": (0.12, 0.9),
    "en": (0.12, 0.0),
    "fr": (0.08, 0.0),
    "de": (0.08, 0.0),
    "it": (0.08, 0.0),
    "pt": (0.08, 0.5),
    "pl": (0.08, 0.0),
    "nl": (0.04, 0.0),
    "el": (0.04, 0.0),
}
ZIPF = 1.0  # rank-frequency exponent: the top given name of a language is ~1 in 6
# The lists are accent-folded; the CRM writes some words with their accents so that
# a sign-up typed without them is a real test.
ACCENTED = {
    "maria": "maría", "garcia": "garcía", "lucia": "lucía", "jose": "josé", "ramon": "ramón",
    "leon": "león", "martin": "martín", "ines": "inés", "angel": "ángel", "alvaro": "álvaro",
    "oscar": "óscar", "raul": "raúl", "ruben": "rubén", "sebastian": "sebastián",
    "adrian": "adrián", "andres": "andrés", "nuria": "núria", "nicolas": "nicolás",
    "joaquin": "joaquín", "julian": "julián", "jesus": "jesús", "monica": "mónica",
    "beatriz": "beatriz", "begona": "begoña", "ibanez": "ibáñez", "munoz": "muñoz",
    "nunez": "núñez", "pena": "peña", "marti": "martí", "adria": "adrià", "agusti": "agustí",
    "merce": "mercè", "joao": "joão", "goncalo": "gonçalo", "goncalves": "gonçalves",
    "muller": "müller", "schroder": "schröder", "kruger": "krüger", "schafer": "schäfer",
    "gunter": "günter", "jurgen": "jürgen", "francois": "françois", "francoise": "françoise",
    "frederic": "frédéric", "sebastien": "sébastien", "stephane": "stéphane",
    "valerie": "valérie", "lea": "léa", "andre": "andré", "lukasz": "łukasz",
    "malgorzata": "małgorzata", "pawel": "paweł", "michal": "michał", "krol": "król",
    "jozef": "józef", "slawomir": "sławomir", "wojcik": "wójcik", "zofia": "zofia",
    "obrien": "o'brien",
}  # fmt: skip
SIMILAR_GIVEN = [  # a different person's name, one or two letters away
    ("joan", "joana"), ("maria", "marta"), ("marta", "maria"), ("ana", "anna"),
    ("anna", "ana"), ("pau", "paula"), ("paula", "paola"), ("daniel", "daniela"),
    ("carla", "carlos"), ("carlos", "carla"), ("julia", "julian"), ("jan", "jana"),
    ("laura", "lara"), ("mario", "maria"), ("marina", "mariana"), ("lucia", "lucas"),
    ("jose", "josefa"), ("juan", "juana"), ("luis", "luisa"), ("manuel", "manuela"),
    ("francisco", "francisca"), ("antonio", "antonia"), ("marc", "mar"), ("pere", "pera"),
    ("michael", "michelle"), ("daniel", "danielle"), ("jean", "jeanne"), ("piotr", "petra"),
    ("andrea", "andreas"), ("jakub", "jakob"), ("nuria", "nuri"), ("ines", "ivens"),
]  # fmt: skip
EDITS = ("sub", "del", "ins", "trans")
MAX_LIST = 25  # Tutela lists at most 25 possible matches per request; splink is cut the same

POLICY = """
version: 1
subjects:
  customer:
    identifiers:
      - {table: signups, column: email, kind: email}
      - {table: signups, column: name, kind: name}
      - {table: signups, column: born, kind: birth_date}
      - {table: signups, column: postcode, kind: postcode}
      - {table: signups, column: phone, kind: phone, region: ES}
      - {table: crm, column: customer_id, kind: customer_id}
      - {table: crm, column: email, kind: email}
      - {table: crm, column: full_name, kind: name}
      - {table: crm, column: birth_date, kind: birth_date}
      - {table: crm, column: postcode, kind: postcode}
      - {table: crm, column: phone, kind: phone, region: ES}
tables:
  signups:
    columns: {email: EMAIL_ADDRESS, name: PERSON, born: DATE_OF_BIRTH,
              postcode: {category: user.contact.address.postal_code}, phone: PHONE_NUMBER}
  crm:
    columns: {customer_id: {category: user.unique_id}, email: EMAIL_ADDRESS,
              full_name: PERSON, birth_date: DATE_OF_BIRTH,
              postcode: {category: user.contact.address.postal_code}, phone: PHONE_NUMBER}
"""


# --------------------------------------------------------------------------- data


@dataclass
class Person:
    idx: int
    lang: str
    words: list[str]  # given name first, then the surnames, as written in the CRM
    dob: date
    postcode: str
    phone: str

    @property
    def name(self) -> str:
        return " ".join(self.words)


@dataclass
class Query:
    qid: str
    kind: str
    name: str
    dob: str | None
    postcode: str | None = None
    phone: str | None = None
    truth: set[int] = field(default_factory=set)  # CRM idx of the same person
    want: bool = False  # should the true row be listed (corroborated)?
    detail: str = ""  # e.g. "surname del @0" for typo kinds
    source: str = ""  # the CRM name it was derived from


def _fold(text: str) -> str:
    return (
        "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        .replace("ł", "l")
        .replace("Ł", "L")
    )


def _title(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in word.split("-")).replace("O'b", "O'B")


def _zipf_weights(n: int) -> list[float]:
    """Cumulative Zipf weights for `random.choices(..., cum_weights=...)`."""
    return list(accumulate(1.0 / (i + 1) ** ZIPF for i in range(n)))


class Names:
    """Per language: the list's words, ranked (differently for given names and surnames)."""

    def __init__(self, rng: random.Random) -> None:
        self.given: dict[str, list[str]] = {}
        self.family: dict[str, list[str]] = {}
        for lang in LANGS:
            path = DATA / f"names_{lang}.txt"
            words = [
                w.strip()
                for w in path.read_text(encoding="utf-8").splitlines()
                if w.strip() and not w.startswith("#")
            ]
            g, f = list(words), list(words)
            rng.shuffle(g)
            rng.shuffle(f)
            self.given[lang], self.family[lang] = g, f
        self.gw = {k: _zipf_weights(len(v)) for k, v in self.given.items()}
        self.fw = {k: _zipf_weights(len(v)) for k, v in self.family.items()}

    def draw(self, rng: random.Random, lang: str) -> list[str]:
        given = rng.choices(self.given[lang], cum_weights=self.gw[lang])[0]
        n_sur = 2 if rng.random() < LANGS[lang][1] else 1
        sur: list[str] = []
        while len(sur) < n_sur:
            s = rng.choices(self.family[lang], cum_weights=self.fw[lang])[0]
            if s != given and s not in sur:
                sur.append(s)
        return [_title(ACCENTED.get(w, w)) for w in [given, *sur]]


def build_crm(n: int, rng: random.Random, names: Names) -> list[Person]:
    langs = list(LANGS)
    shares = list(accumulate(LANGS[k][0] for k in langs))
    start, days = date(1940, 1, 1), (date(2006, 12, 31) - date(1940, 1, 1)).days
    postcodes = [f"{rng.randint(1, 52):02d}{rng.randint(0, 999):03d}" for _ in range(2000)]
    phones: set[str] = set()
    people = []
    for i in range(n):
        lang = rng.choices(langs, cum_weights=shares)[0]
        while True:
            phone = f"6{rng.randint(0, 99_999_999):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        people.append(
            Person(
                i,
                lang,
                names.draw(rng, lang),
                start + timedelta(days=rng.randint(0, days)),
                rng.choice(postcodes),
                phone,
            )
        )
    return people


def typo(word: str, edit: str, rng: random.Random) -> tuple[str, int]:
    """One edit of `word` at a random position; returns the new word and the position."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = len(word)
    if edit == "sub":
        i = rng.randrange(n)
        c = rng.choice([x for x in letters if x != word[i].lower()])
        c = c.upper() if word[i].isupper() else c
        return word[:i] + c + word[i + 1 :], i
    if edit == "del":
        i = rng.randrange(n)
        return word[:i] + word[i + 1 :], i
    if edit == "ins":
        i = rng.randrange(n + 1)
        return word[:i] + rng.choice(letters) + word[i:], i
    i = rng.randrange(n - 1)  # transposition of i and i+1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :], i


def position_bucket(i: int, n: int) -> str:
    if i == 0:
        return "1st letter"
    if i == 1:
        return "2nd letter"
    if i >= n - 1:
        return "last letter"
    if i == n - 2:
        return "2nd-last letter"
    return "middle"


def make_queries(
    crm: list[Person], rng: random.Random, n_queries: int, names: Names
) -> list[Query]:
    by_name: dict[str, list[Person]] = defaultdict(list)
    for p in crm:
        by_name[_fold(p.name).lower()].append(p)
    common = sorted(by_name, key=lambda k: -len(by_name[k]))[:50]
    accented = [p for p in crm if _fold(p.name) != p.name]
    two_surnames = [p for p in crm if len(p.words) >= 3]
    phones = {p.phone for p in crm}
    dob_names = {(_fold(p.name).lower(), p.dob) for p in crm}
    start, days = date(1940, 1, 1), (date(2006, 12, 31) - date(1940, 1, 1)).days
    plan = {  # kind: share of the queries
        "exact": 60, "typo_given": 150, "typo_surname": 150, "typo_both": 40, "swapped": 50,
        "merged": 40, "split": 40, "accents_case": 50, "postcode_only": 50,
        "phone_last4_only": 30, "typo_phone_only": 60, "dob_typo": 40, "name_only": 50,
        "namesake_other_dob": 60,
        "common_name_no_dob": 40, "similar_name_other_dob": 60, "stranger_with_dob": 60,
    }  # fmt: skip
    total = sum(plan.values())
    out: list[Query] = []

    def other_dob(name: str) -> date:
        while True:
            d = start + timedelta(days=rng.randint(0, days))
            if (_fold(name).lower(), d) not in dob_names:
                return d

    def same_last4(p: Person) -> str:
        """Another number ending in the person's last four digits (an old or mistyped one)."""
        while True:
            phone = p.phone[:1] + f"{rng.randint(0, 9999):04d}" + p.phone[5:]
            if phone not in phones:
                return phone

    def add(kind: str, name: str, p: Person | None, want: bool, **kw: Any) -> None:
        q = Query(f"Q{len(out)}", kind, name, kw.pop("dob", p.dob.isoformat() if p else None))
        q.postcode, q.phone = kw.pop("postcode", None), kw.pop("phone", None)
        q.detail, q.source = kw.pop("detail", ""), p.name if p else kw.pop("source", "")
        if p is not None:
            q.truth = {p.idx}
        q.want = want
        out.append(q)

    for kind, share in plan.items():
        count = max(1, round(share * n_queries / total))
        for _ in range(count):
            p = rng.choice(crm)
            w = list(p.words)
            if kind == "exact":
                add(kind, p.name, p, True)
            elif kind in ("typo_given", "typo_surname", "typo_both", "typo_phone_only"):
                parts = []
                where = kind if kind != "typo_phone_only" else rng.choice(["given", "surname"])
                if where != "typo_surname" and where != "surname":
                    parts.append(("given", 0))
                if where != "typo_given" and where != "given":
                    parts.append(("surname", rng.randrange(1, len(w))))
                details = []
                for part, j in parts:
                    while True:
                        edit = rng.choice(EDITS)
                        if edit == "trans" and len(w[j]) < 2:
                            continue
                        new, pos = typo(w[j], edit, rng)
                        if new.lower() != w[j].lower():
                            break
                    details.append(f"{part} {edit} {position_bucket(pos, len(w[j]))}")
                    w[j] = new
                if kind == "typo_phone_only":  # blocking must find it: no date, no postcode
                    add(kind, " ".join(w), p, True, dob=None, phone=same_last4(p),
                        detail=details[0])  # fmt: skip
                else:
                    add(kind, " ".join(w), p, True, detail="; ".join(details))
            elif kind == "swapped":
                add(kind, " ".join([*w[1:], w[0]]), p, True)
            elif kind == "merged":
                p = rng.choice(two_surnames) if rng.random() < 0.7 else p
                w = list(p.words)
                j = len(w) - 2  # the two surnames, or the given name and the surname
                merged = [*w[:j], w[j] + w[j + 1]]
                add(kind, " ".join(merged), p, True, detail=f"{w[j]}+{w[j + 1]}")
            elif kind == "split":
                j = max(range(len(w)), key=lambda k: len(w[k]))
                if len(w[j]) < 4:
                    add(kind, p.name, p, True, detail="too short to split")
                    continue
                cut = rng.randrange(2, len(w[j]) - 1)
                w[j] = w[j][:cut] + " " + w[j][cut:].capitalize()
                add(kind, " ".join(w), p, True, detail=f"word {j} at {cut}")
            elif kind == "accents_case":
                p = rng.choice(accented) if accented and rng.random() < 0.8 else p
                name = _fold(p.name)
                name = name.upper() if rng.random() < 0.3 else name.lower()
                add(kind, name, p, True)
            elif kind == "postcode_only":
                add(kind, p.name, p, True, dob=None, postcode=p.postcode)
            elif kind == "phone_last4_only":
                add(kind, p.name, p, True, dob=None, phone=same_last4(p))
            elif kind == "dob_typo":
                d = p.dob.isoformat()
                if rng.random() < 0.5 and p.dob.day <= 12 and p.dob.day != p.dob.month:
                    typed = f"{d[:4]}-{d[8:10]}-{d[5:7]}"  # day and month swapped
                    detail = "day/month swapped"
                else:
                    typed = (p.dob + timedelta(days=rng.choice([-1, 1]))).isoformat()
                    detail = "one day off"
                add(kind, p.name, p, True, dob=typed, detail=detail)
            elif kind == "name_only":
                add(kind, p.name, p, False, dob=None)
            elif kind == "namesake_other_dob":
                key = rng.choice(common)
                src = by_name[key][0]
                add(kind, src.name, None, False, dob=other_dob(src.name).isoformat(),
                    source=src.name)  # fmt: skip
            elif kind == "common_name_no_dob":
                src = by_name[rng.choice(common)][0]
                add(kind, src.name, None, False, dob=None, source=src.name)
            elif kind == "similar_name_other_dob":
                for _ in range(1000):
                    p = rng.choice(crm)
                    first = _fold(p.words[0]).lower()
                    subs = [b for a, b in SIMILAR_GIVEN if a == first]
                    if subs:
                        break
                new = " ".join([_title(rng.choice(subs)), *p.words[1:]])
                add(kind, new, None, False, dob=other_dob(new).isoformat(), source=p.name,
                    detail=f"{p.words[0]} -> {new.split()[0]}")  # fmt: skip
            elif kind == "stranger_with_dob":
                lang = rng.choices(list(LANGS), [v[0] for v in LANGS.values()])[0]
                name = " ".join(names.draw(rng, lang))
                add(kind, name, None, False, dob=other_dob(name).isoformat())
    return out


def write_tables(dirpath: Path, crm: list[Person], queries: list[Query]) -> tuple[Path, Path]:
    crm_csv, sig_csv = dirpath / "crm.csv", dirpath / "signups.csv"
    with crm_csv.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "email", "full_name", "birth_date", "postcode", "phone"])
        for p in crm:
            w.writerow(
                [
                    f"C{p.idx}",
                    f"c{p.idx}@crm.example",
                    p.name,
                    p.dob.isoformat(),
                    p.postcode,
                    p.phone,
                ]
            )
    with sig_csv.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["qid", "email", "name", "born", "postcode", "phone"])
        for q in queries:
            w.writerow([q.qid, f"{q.qid.lower()}@signup.example", q.name, q.dob, q.postcode,
                        q.phone])  # fmt: skip
    return crm_csv, sig_csv


def _read_csv(path: Path) -> str:
    return f"read_csv('{path}', header = true, all_varchar = true)"


# --------------------------------------------------------------------------- results


@dataclass
class Listed:
    """The possible matches of one method: query id -> [(CRM idx, score)], best first."""

    rows: dict[str, list[tuple[int, float]]]
    other: dict[str, int] = field(default_factory=dict)  # listings in other tables


@dataclass
class Run:
    method: str
    listed: Listed
    batch_seconds: float
    setup_seconds: float = 0.0
    single_seconds: list[float] = field(default_factory=list)
    note: str = ""
    profile: dict[str, float] = field(default_factory=dict)
    other_examples: list[tuple[str, str]] = field(default_factory=list)


def score(queries: list[Query], listed: Listed) -> dict[str, dict[str, float]]:
    """Per kind and overall: recall (over queries whose true row should be listed),
    precision (listed rows that are the person), mean list length, share of empty lists."""
    acc: dict[str, Counter[str]] = defaultdict(Counter)
    for q in queries:
        rows = [r for r, _ in listed.rows.get(q.qid, [])]
        for key in (q.kind, "ALL"):
            c = acc[key]
            c["queries"] += 1
            c["listed"] += len(rows)
            c["true_listed"] += len(set(rows) & q.truth)
            c["empty"] += not rows
            c["other"] += listed.other.get(q.qid, 0)
            if q.want:
                c["want"] += 1
                c["found"] += q.truth <= set(rows)
    out = {}
    for key, c in acc.items():
        recall = c["found"] / c["want"] if c["want"] else float("nan")
        precision = c["true_listed"] / c["listed"] if c["listed"] else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if c["want"] and c["listed"] and precision + recall
            else float("nan")
        )
        out[key] = {
            "queries": c["queries"],
            "recall": recall,
            "precision": precision,
            "f1": f1,
            "mean_listed": c["listed"] / c["queries"],
            "empty": c["empty"] / c["queries"],
            "other_tables": c["other"] / c["queries"],
        }
    return out


# --------------------------------------------------------------------------- Tutela

_PROFILED = {  # steps of find_subjects whose time is reported
    "_close", "_subject_names", "name_candidates", "_corroborated_candidates",
    "_add_evidence", "_describe", "judge",
}  # fmt: skip


def run_tutela(
    tmp: Path, crm_csv: Path, sig_csv: Path, queries: list[Query], n_single: int
) -> tuple[Run, Workspace]:
    pol = tmp / "policy.yaml"
    pol.write_text(POLICY, encoding="utf-8")
    policy = load_policy(pol).policy
    ws = Workspace.open(tmp / "ws")
    ws.con.execute(f"CREATE TABLE crm AS SELECT * FROM {_read_csv(crm_csv)}")
    ws.con.execute(
        f"CREATE TABLE signups AS SELECT email, name, born, postcode, phone "
        f"FROM {_read_csv(sig_csv)}"
    )
    ctx = service.context(ws, policy)
    rid_to_idx = {
        int(r): int(c[1:])
        for r, c in ws.con.execute("SELECT rowid, customer_id FROM crm").fetchall()
    }
    email = {q.qid: f"{q.qid.lower()}@signup.example" for q in queries}

    def collect(matches: dict[str, service.SubjectMatch], into: Listed) -> None:
        for qid, m in matches.items():
            rows = [(rid_to_idx[p.rowid], p.similarity) for p in m.possible if p.table == "crm"]
            into.rows[qid] = rows
            into.other[qid] = sum(p.table != "crm" for p in m.possible)
            if m.rows.get("crm"):  # a certain CRM link would be a bug in this setup
                into.other[qid] += 1000

    requests = {q.qid: {"email": [email[q.qid]]} for q in queries}
    t = time.perf_counter()
    find_subjects(ws, ctx.space, requests, names=False)
    without_names = time.perf_counter() - t
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    batch = find_subjects(ws, ctx.space, requests)
    prof.disable()
    batch_s = time.perf_counter() - t
    scored = ws.con.execute("SELECT count(*) FROM _ncand").fetchone()
    listed = Listed({})
    collect(batch, listed)
    run = Run("Tutela", listed, batch_s)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    steps = {
        f"{Path(file).stem}.{func}": cum
        for (file, _, func), (_, _, _, cum, _) in stats.items()
        if "tutela/subjects" in file.replace("\\", "/") and func in _PROFILED
    }
    run.profile = {
        "batch without name matching": without_names,
        **dict(sorted(steps.items(), key=lambda kv: -kv[1])),
        "name pairs scored (rows of _ncand)": float(scored[0] if scored else 0),
    }
    signup_names = dict(ws.con.execute("SELECT rowid, name FROM signups").fetchall())
    run.other_examples = [
        (q.name, str(signup_names.get(p.rowid)))
        for q in queries
        for p in batch[q.qid].possible
        if p.table == "signups"
    ][:12]
    sample = random.Random(7).sample(queries, min(n_single, len(queries)))
    single = Listed({})
    for q in sample:
        t = time.perf_counter()
        one = find_subjects(ws, ctx.space, {q.qid: {"email": [email[q.qid]]}})
        run.single_seconds.append(time.perf_counter() - t)
        collect(one, single)
    differ = [q.qid for q in sample if sorted(single.rows[q.qid]) != sorted(listed.rows[q.qid])]
    run.note = (
        f"one-at-a-time results equal the batch's for all {len(sample)} sampled requests"
        if not differ
        else f"one-at-a-time results differ from the batch's for {len(differ)} of "
        f"{len(sample)} requests: {differ[:5]}"
    )
    return run, ws


def tutela_diagnosis(ws: Workspace, queries: list[Query], listed: Listed) -> list[dict[str, Any]]:
    """Why each missed sign-up was missed: the name similarity Tutela computes and whether
    the names share a blocking key (the macros are left in the connection by the run)."""
    missed = [q for q in queries if q.want and not q.truth <= {r for r, _ in listed.rows[q.qid]}]
    out = []
    for q in missed:
        a = "lower(strip_accents(regexp_replace(trim(?), '\\s+', ' ', 'g')))"
        sim, shared = ws.con.execute(
            f"SELECT _nsim({a}, {a}), len(list_intersect(_nblock({a}), _nblock({a})))",
            [q.name, q.source, q.name, q.source],
        ).fetchone()  # type: ignore[misc]
        out.append(
            {
                "kind": q.kind,
                "query": q.name,
                "crm": q.source,
                "detail": q.detail,
                "similarity": round(float(sim), 3),
                "shared_block_keys": int(shared),
                "dob": q.dob,
            }
        )
    return out


def blocking_sweep(
    ws: Workspace, crm: list[Person], rng: random.Random, people: int
) -> dict[str, dict[str, float]]:
    """Every single edit at every position of every word of `people` CRM names, plus the
    swapped, merged and split forms, through Tutela's own blocking keys and similarity
    (the macros find_subjects leaves in the connection): the share of variants that share
    a blocking key with the original (needed when only a phone corroborates), and that
    reach 0.80 (corroborated) and 0.88 (name alone)."""
    pairs: list[tuple[str, str, str]] = []
    for p in rng.sample(crm, min(people, len(crm))):
        w = p.words
        for j, word in enumerate(w):
            part = "given" if j == 0 else "surname"
            n = len(word)
            for i in range(n):
                c = "x" if word[i].lower() != "x" else "y"
                for edit, new in (
                    ("sub", word[:i] + c + word[i + 1 :]),
                    ("del", word[:i] + word[i + 1 :]),
                    ("ins", word[:i] + "e" + word[i:]),
                    ("trans", word[:i] + word[i + 1 : i + 2] + word[i] + word[i + 2 :]),
                ):
                    if (edit == "trans" and i == n - 1) or new.lower() == word.lower():
                        continue
                    key = f"{part} {edit} @ {position_bucket(i, n)}"
                    pairs.append((key, " ".join([*w[:j], new, *w[j + 1 :]]), p.name))
        pairs.append(("swapped", " ".join([*w[1:], w[0]]), p.name))
        pairs.append(("merged", " ".join([*w[:-2], w[-2] + w[-1]]), p.name))
        j = max(range(len(w)), key=lambda k: len(w[k]))
        if len(w[j]) >= 4:
            cut = len(w[j]) // 2
            split = w[j][:cut] + " " + w[j][cut:]
            pairs.append(("split", " ".join([*w[:j], split, *w[j + 1 :]]), p.name))
    con = ws.con
    con.execute("CREATE OR REPLACE TEMP TABLE _sweep (k VARCHAR, a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO _sweep VALUES (?, ?, ?)", pairs)
    norm = "lower(strip_accents(regexp_replace(trim({}), '\\s+', ' ', 'g')))"
    a, b = norm.format("a"), norm.format("b")
    rows = con.execute(
        f"""SELECT k, count(*), avg((len(list_intersect(_nblock({a}), _nblock({b}))) > 0)::INT),
        avg((_nsim({a}, {b}) >= 0.80)::INT), avg((_nsim({a}, {b}) >= 0.88)::INT),
        min(_nsim({a}, {b})) FROM _sweep GROUP BY k ORDER BY k"""
    ).fetchall()
    return {
        str(k): {"n": n, "blocked": bl, "sim>=0.80": s80, "sim>=0.88": s88, "min sim": mn}
        for k, n, bl, s80, s88, mn in rows
    }


WORD_CHECK = 0.88


def word_check(con: duckdb.DuckDBPyConnection, queries: list[Query], crm: list[Person],
               listed: Listed) -> Listed:  # fmt: skip
    """What-if, not Tutela's code: keep a listed row only if, word by word, the name with
    fewer words finds each of its words in the other (mean of the best Jaro-Winkler per
    word, Monge-Elkan, >= WORD_CHECK), or the names are equal without spaces. Shows how
    much precision a word-level score would buy over whole-string Jaro-Winkler."""
    names = {q.qid: q.name for q in queries}
    pairs = [(qid, r, names[qid], crm[r].name) for qid, v in listed.rows.items() for r, _ in v]
    if not pairs:
        return Listed({}, dict(listed.other))
    con.execute("CREATE OR REPLACE TEMP TABLE _wc (q VARCHAR, r BIGINT, a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO _wc VALUES (?, ?, ?, ?)", pairs)
    toks = (
        "list_filter(string_split(regexp_replace(lower(strip_accents({})), '[^\\pL]+', ' ', "
        "'g'), ' '), lambda w: length(w) >= 2)"
    )
    keep = con.execute(
        f"""WITH t AS (SELECT q, r, {toks.format("a")} AS ta, {toks.format("b")} AS tb FROM _wc),
        o AS (SELECT q, r, CASE WHEN len(ta) <= len(tb) THEN ta ELSE tb END AS s,
                     CASE WHEN len(ta) <= len(tb) THEN tb ELSE ta END AS l,
                     array_to_string(ta, '') = array_to_string(tb, '') AS same FROM t)
        SELECT q, r FROM o WHERE same OR list_avg(list_transform(s, lambda x:
          list_max(list_transform(l, lambda y: jaro_winkler_similarity(x, y))))) >= ?""",
        [WORD_CHECK],
    ).fetchall()
    kept = {(q, int(r)) for q, r in keep}
    return Listed(
        {qid: [(r, x) for r, x in v if (qid, r) in kept] for qid, v in listed.rows.items()},
        dict(listed.other),
    )


# --------------------------------------------------------------------------- splink

_STD = """
SELECT {id} AS unique_id, n AS name_norm, tok AS name_tokens,
       tok[1] AS forename, array_to_string(tok[2:], ' ') AS surname,
       array_to_string(list_sort(tok), ' ') AS name_sorted,
       array_to_string(tok, '') AS name_concat,
       try_cast(dob AS DATE)::VARCHAR AS dob, postcode, phone,
       right(phone, 4) AS phone_last4
FROM (SELECT *, string_split(n, ' ') AS tok FROM (
  SELECT *, nullif(trim(regexp_replace(lower(strip_accents({name})), '[^\\pL\\pN]+', ' ',
         'g')), '') AS n FROM {src}))
"""


def _jw(threshold: float) -> str:
    return (
        "greatest(jaro_winkler_similarity(name_norm_l, name_norm_r), "
        "jaro_winkler_similarity(name_sorted_l, name_sorted_r), "
        f"jaro_winkler_similarity(name_concat_l, name_concat_r)) >= {threshold}"
    )


def _words(threshold: float) -> str:
    """Monge-Elkan: each word of the name with fewer words against its best match in the
    other name (Jaro-Winkler), averaged."""
    short = (
        "CASE WHEN len(name_tokens_l) <= len(name_tokens_r) THEN name_tokens_l "
        "ELSE name_tokens_r END"
    )
    long = (
        "CASE WHEN len(name_tokens_l) <= len(name_tokens_r) THEN name_tokens_r "
        "ELSE name_tokens_l END"
    )
    return (
        f"list_avg(list_transform({short}, lambda x: list_max(list_transform({long}, "
        f"lambda y: jaro_winkler_similarity(x, y))))) >= {threshold}"
    )


def splink_settings(prior: float, words: bool) -> Any:
    """The splink model. `words`: name levels on word-by-word similarity (Monge-Elkan)
    instead of Jaro-Winkler over the whole name."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    fuzzy = (
        [
            *[cll.CustomLevel(_words(t), f"words Jaro-Winkler >= {t}") for t in (0.96, 0.92, 0.85)],
            cll.CustomLevel(_jw(0.88), "Jaro-Winkler >= 0.88"),
        ]
        if words
        else [cll.CustomLevel(_jw(t), f"Jaro-Winkler >= {t}") for t in (0.92, 0.88, 0.8, 0.7)]
    )
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_norm"),
            cll.ExactMatchLevel("name_norm").configure(tf_adjustment_column="name_norm"),
            cll.CustomLevel("name_sorted_l = name_sorted_r", "same words, other order"),
            cll.CustomLevel("name_concat_l = name_concat_r", "same letters, other spaces"),
            *fuzzy,
            cll.ElseLevel(),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.ExactMatchLevel("phone_last4"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        probability_two_random_records_match=prior,
        comparisons=[
            name,
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("postcode"),
            phone,
        ],
        blocking_rules_to_generate_predictions=[
            block_on("dob"),
            block_on("postcode"),
            block_on("phone_last4"),
            block_on("name_norm"),
            block_on("name_sorted"),
            block_on("name_concat"),
            block_on("surname", "substr(forename, 1, 1)"),
            block_on("forename", "substr(surname, 1, 2)"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def run_splink(
    crm_csv: Path, sig_csv: Path, queries: list[Query], n_crm: int, n_single: int, words: bool
) -> tuple[Run, dict[str, Any]]:
    from splink import DuckDBAPI, Linker, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    # tutela.workspace records pandas as absent (sys.modules["pandas"] = None) to keep DuckDB
    # fast; pyarrow, which splink hands tables through, then trips over that None. Let
    # pyarrow look for pandas once without the marker (it caches the answer), then restore.
    marker = sys.modules.pop("pandas", "absent")
    try:
        import pyarrow

        pyarrow.Table.from_pylist([{"probe": 1}])
    finally:
        if marker != "absent":
            sys.modules["pandas"] = marker  # type: ignore[assignment]
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(
        "CREATE TABLE crm AS "
        + _STD.format(
            id="CAST(substr(customer_id, 2) AS BIGINT)", name="full_name", src=_read_csv(crm_csv)
        ).replace("try_cast(dob", "try_cast(birth_date")
    )
    con.execute(
        "CREATE TABLE signups AS "
        + _STD.format(
            id="CAST(substr(qid, 2) AS BIGINT)", name="name", src=_read_csv(sig_csv)
        ).replace("try_cast(dob", "try_cast(born")
    )
    db = DuckDBAPI(con)
    crm_df = db.register("crm", dataset_display_name="crm")
    sig_df = db.register("signups", dataset_display_name="signups")
    # prior: about 60% of sign-ups have one CRM row among N
    prior = 0.6 / n_crm
    linker = Linker([sig_df, crm_df], splink_settings(prior, words), log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_norm"))
    train_s = time.perf_counter() - t0
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.001, warning_mode="never")
    rows = con.execute(
        f"SELECT unique_id_l, unique_id_r, match_probability, source_dataset_l "
        f"FROM {pred.physical_name}"
    ).fetchall()
    batch_s = time.perf_counter() - t
    pairs: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for a, b, prob, src_l in rows:
        qid, idx = (f"Q{a}", int(b)) if src_l == "signups" else (f"Q{b}", int(a))
        pairs[qid].append((idx, float(prob)))
    for v in pairs.values():
        v.sort(key=lambda x: -x[1])
    run = Run("splink", Listed(dict(pairs)), batch_s, setup_seconds=train_s)
    # one request at a time: predict_between one sign-up and the CRM
    linker.table_management.compute_tf_table("name_norm")
    sample = random.Random(7).sample(queries, min(n_single, len(queries)))
    for i, q in enumerate(sample):
        t = time.perf_counter()
        con.execute(
            f"CREATE OR REPLACE TABLE one_{i} AS SELECT * FROM signups "
            f"WHERE unique_id = {int(q.qid[1:])}"
        )
        one = db.register(f"one_{i}", dataset_display_name=f"signups_{i}")
        res = linker.inference.predict_between(
            one, crm_df, threshold_match_probability=0.001, warning_mode="never"
        )
        got = con.execute(f"SELECT count(*) FROM {res.physical_name}").fetchone()
        run.single_seconds.append(time.perf_counter() - t)
        assert got is not None
    model = linker.misc.save_model_to_json()
    return run, model


def splink_at(run: Run, threshold: float) -> Listed:
    return Listed(
        {q: [(r, p) for r, p in v if p >= threshold][:MAX_LIST] for q, v in run.listed.rows.items()}
    )


def best_threshold(queries: list[Query], run: Run) -> float:
    grid = sorted({round(p, 4) for v in run.listed.rows.values() for _, p in v} | {0.5})
    best, best_f1 = 0.5, -1.0
    for th in grid[:: max(1, len(grid) // 400)]:
        f1 = score(queries, splink_at(run, th))["ALL"]["f1"]
        if f1 == f1 and f1 > best_f1:
            best, best_f1 = th, f1
    return best


def model_summary(model: dict[str, Any]) -> list[str]:
    """m and u per comparison level of the trained splink model, for the doc."""
    out = []
    for comp in model.get("comparisons", []):
        for lvl in comp.get("comparison_levels", []):
            if lvl.get("is_null_level"):
                continue
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            label = lvl.get("label_for_charts", lvl.get("sql_condition", ""))
            ms = f"{m:.3g}" if isinstance(m, float) else "-"
            us = f"{u:.3g}" if isinstance(u, float) else "-"
            out.append(f"{comp.get('output_column_name')}: {label}: m={ms} u={us}")
    return out


# --------------------------------------------------------------------------- report


def _f(x: float, digits: int = 2) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def table(results: dict[str, dict[str, dict[str, float]]], kinds: Iterable[str]) -> list[str]:
    methods = list(results)
    head = "| kind | n | " + " | ".join(f"{m} R | {m} P | {m} list" for m in methods) + " |"
    lines = [head, "|" + "---|" * (2 + 3 * len(methods))]
    for k in kinds:
        cells = []
        for m in methods:
            s = results[m].get(k)
            if s is None:
                cells += ["-", "-", "-"]
                continue
            cells += [_f(s["recall"]), _f(s["precision"]), _f(s["mean_listed"])]
        n = int(next(iter(results.values()))[k]["queries"])
        lines.append(f"| {k} | {n} | " + " | ".join(cells) + " |")
    return lines


def by_detail(
    queries: list[Query], listed: Listed, key: Callable[[Query], Iterable[str]]
) -> dict[str, tuple[int, int]]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q in queries:
        if not q.want:
            continue
        found = q.truth <= {r for r, _ in listed.rows.get(q.qid, [])}
        for k in key(q):
            acc[k][0] += found
            acc[k][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(acc.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n_crm", nargs="?", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--single", type=int, default=10, help="requests timed one at a time")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--sweep", type=int, default=300, help="names in the exhaustive typo sweep")
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--json", type=Path, help="write all figures and misses here")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    names = Names(rng)
    t = time.perf_counter()
    crm = build_crm(args.n_crm, rng, names)
    queries = make_queries(crm, rng, args.queries, names)
    gen_s = time.perf_counter() - t
    namesakes = Counter(_fold(p.name).lower() for p in crm)
    print(
        f"CRM {len(crm):,} people ({len(namesakes):,} distinct names; the commonest "
        f"{namesakes.most_common(1)[0][1]} times; "
        f"{sum(c for c in namesakes.values() if c > 1) / len(crm):.0%} share their name); "
        f"{len(queries):,} sign-ups; generated in {gen_s:.1f} s"
    )
    report: dict[str, Any] = {"n_crm": len(crm), "n_queries": len(queries), "seed": args.seed}
    results: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        crm_csv, sig_csv = write_tables(tmp, crm, queries)
        tut, ws = run_tutela(tmp, crm_csv, sig_csv, queries, args.single)
        runs["Tutela"] = tut
        results["Tutela"] = score(queries, tut.listed)
        what_if = Run(
            "Tutela+word check", word_check(ws.con, queries, crm, tut.listed), float("nan")
        )
        what_if.setup_seconds = float("nan")
        what_if.note = "what-if: Tutela's listings kept only if the names agree word by word"
        misses = tutela_diagnosis(ws, queries, tut.listed)
        sweep = blocking_sweep(ws, crm, random.Random(args.seed + 1), args.sweep)
        ws.close()
        if not args.no_splink:
            try:
                import splink  # noqa: F401
            except ImportError:
                print("splink is not installed (pip install splink): Tutela only")
            else:
                for words, name in ((False, "splink"), (True, "splink-words")):
                    n_single = max(1, args.single // 2)
                    sp, model = run_splink(crm_csv, sig_csv, queries, len(crm), n_single, words)
                    th = best_threshold(queries, sp)
                    for label, cut in ((f"{name}@0.50", 0.5), (f"{name}@{th:.2f}", th)):
                        runs[label] = Run(label, splink_at(sp, cut), sp.batch_seconds,
                                          sp.setup_seconds, sp.single_seconds)  # fmt: skip
                        results[label] = score(queries, runs[label].listed)
                    report.setdefault("splink_model", {})[name] = model_summary(model)
                    report.setdefault("splink_best_threshold", {})[name] = th
        runs[what_if.method] = what_if
        results[what_if.method] = score(queries, what_if.listed)

    kinds = [*dict.fromkeys(q.kind for q in queries), "ALL"]
    print()
    shown = {m: r for m, r in results.items() if "@" not in m or m.endswith("@0.50")}
    print("\n".join(table(shown, kinds)))
    print(
        "\nR = recall (true row listed; kinds where it should be), P = precision (listed rows "
        "that are the person), list = mean possible matches per sign-up"
    )
    print("\n| method | recall | precision | F1 | mean list | setup s | batch s | per request s |")
    print("|---|---|---|---|---|---|---|---|")
    for m, run in runs.items():
        s = results[m]["ALL"]
        single = statistics.median(run.single_seconds) if run.single_seconds else float("nan")
        print(
            f"| {m} | {_f(s['recall'])} | {_f(s['precision'])} | {_f(s['f1'])} | "
            f"{_f(s['mean_listed'])} | {_f(run.setup_seconds, 1)} | "
            f"{_f(run.batch_seconds, 1)} | {_f(single, 3)} |"
        )
    print(f"\nTutela: {tut.note}")
    print("Tutela batch, where the time goes (cumulative seconds; steps overlap):")
    for step, secs in tut.profile.items():
        print(f"  {step}: {secs:,.1f}")
    other = results["Tutela"]["ALL"]["other_tables"]
    print(
        f"Tutela: also {other:.2f} possible matches per sign-up in the signups table itself "
        "(unlinked rows listed on a similar name alone; some are one CRM person typed "
        "twice), e.g.:"
    )
    for a, b in tut.other_examples:
        print(f"  {a!r} -> sign-up {b!r}")
    for m, run in runs.items():
        per_pos = by_detail(
            queries,
            run.listed,
            lambda q: [("[phone only] " if "phone" in q.kind else "")
                       + " ".join(d.split()[:2]) + " @ " + " ".join(d.split()[2:])
                       for d in q.detail.split("; ")] if q.kind.startswith("typo") else [],
        )  # fmt: skip
        report.setdefault("typo_positions", {})[m] = {k: list(v) for k, v in per_pos.items()}
    print("\nTypo recall by part, edit and position (found/queries):")
    keys = sorted({k for v in report["typo_positions"].values() for k in v})
    methods = list(shown)
    print("| typo | " + " | ".join(methods) + " |")
    print("|---|" + "---|" * len(methods))
    for k in keys:
        cells = []
        for m in methods:
            f, n = report["typo_positions"][m].get(k, (0, 0))
            cells.append(f"{f}/{n}")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print(
        f"\nTutela's blocking keys and similarity on every single edit of {args.sweep} CRM "
        "names (share of variants):"
    )
    print("| variant | n | share a blocking key | sim >= 0.80 | sim >= 0.88 | min sim |")
    print("|---|---|---|---|---|---|")
    for k, v in sweep.items():
        print(
            f"| {k} | {int(v['n'])} | {v['blocked']:.3f} | {v['sim>=0.80']:.3f} | "
            f"{v['sim>=0.88']:.3f} | {v['min sim']:.2f} |"
        )
    report["tutela_sweep"] = sweep
    print(f"\nTutela misses ({len(misses)}; all but 3 of the birth-date typos shown):")
    dob = [m for m in misses if m["kind"] == "dob_typo"]
    for miss in [m for m in misses if m["kind"] != "dob_typo"] + dob[:3]:
        print(
            f"  {miss['kind']:<17} {miss['query']!r} vs {miss['crm']!r} ({miss['detail']}) "
            f"sim {miss['similarity']}, shared block keys {miss['shared_block_keys']}"
        )
    fps = [
        (q, [r for r, _ in runs["Tutela"].listed.rows[q.qid] if r not in q.truth]) for q in queries
    ]
    fps = [(q, r) for q, r in fps if r]
    print(f"\nTutela listings that are someone else ({sum(len(r) for _, r in fps)} rows, "
          f"{len(fps)} sign-ups); first 15:")  # fmt: skip
    for q, rows in fps[:15]:
        print(f"  {q.kind:<22} {q.name!r} dob {q.dob} -> " + ", ".join(
            f"{crm[r].name!r} {crm[r].dob}" for r in rows[:3]))  # fmt: skip
    for sp_label in [m for m in runs if m.endswith("@0.50")]:
        sp_miss = [
            q
            for q in queries
            if q.want and not q.truth <= {r for r, _ in runs[sp_label].listed.rows.get(q.qid, [])}
        ]
        print(f"\n{sp_label} misses ({len(sp_miss)}); first 15 that are not birth-date typos:")
        for q in [q for q in sp_miss if q.kind != "dob_typo"][:15]:
            print(f"  {q.kind:<17} {q.name!r} vs {q.source!r} ({q.detail})")
    for name, lines in report.get("splink_model", {}).items():
        th = report["splink_best_threshold"][name]
        print(f"\n{name} trained model (best-F1 threshold {th:.3f}):")
        for line in lines:
            print("  " + line)
    if args.json:
        report["results"] = results
        report["tutela_misses"] = misses
        report["tutela_profile"] = tut.profile
        report["times"] = {
            m: {
                "setup": r.setup_seconds,
                "batch": r.batch_seconds,
                "single_median": statistics.median(r.single_seconds) if r.single_seconds else None,
            }
            for m, r in runs.items()
        }
        args.json.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
