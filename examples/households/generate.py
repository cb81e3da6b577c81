"""Generate a customer data drop with the identity ambiguity real data has, and its truth.

Households share a landline, some a family e-mail address and a tablet; web events come
through carrier-grade NAT addresses shared by many customers; shop orders from people
without an account carry the placeholder phone +34 900 000 000; some phone numbers were
recycled from one customer to another; common names have namesakes with other birth
dates; agents misspell callers' names; some orders carry only a landline, some the other
household member's IBAN.

Writes CSV files (the tables), `policy.yaml` is beside this script, and `truth.csv`: for
every row, the person it is really about (kept apart from the tables: Tutela never sees
it; an order paid with a partner's account is about both, `P1|P2`). `requests.csv` is a
batch of access and erasure requests.

    python examples/households/generate.py --out /tmp/drop            # 400 people
    python examples/households/generate.py --out /tmp/big --people 20000

Deterministic for a given --seed and --people. Synthetic people only: names are random
combinations, e-mails use example.* domains, IBANs carry valid check digits.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from stdnum import iban as std_iban

FIRST = [
    "Anna", "Pau", "Núria", "Marc", "Laia", "Jordi", "Eva", "Joan", "Maria", "Marta",
    "Josep", "Montserrat", "Oriol", "Berta", "Carles", "Mireia", "Xavier", "Gemma", "Pol",
    "Clara", "David", "Sara", "Albert", "Elena", "Ramon", "Rosa", "Lluís", "Teresa",
]  # fmt: skip
LAST = [
    "Puig", "Casals", "Rovira", "Vidal", "Serra", "Ferrer", "Soler", "Martí", "Font",
    "Pujol", "Roca", "Sala", "Vila", "Costa", "Bosch", "Mas", "Riera", "Camps", "Prat",
    "Roig", "Sans", "Torres", "Garcia", "Fernández", "López", "Higueras", "Poza", "Jover",
]  # fmt: skip
CITIES = [("08012", "Barcelona"), ("17001", "Girona"), ("25001", "Lleida"),
          ("43001", "Tarragona"), ("08201", "Sabadell"), ("08221", "Terrassa")]  # fmt: skip
PLACEHOLDER_PHONE = "+34 900 000 000"
NAT_IPS = [f"100.64.{a}.{b}" for a in range(4) for b in range(1, 4)]
START = date(2019, 1, 1)
END = date(2026, 10, 31)


@dataclass
class Person:
    pid: str
    first: str
    last1: str
    last2: str
    birth: date
    postcode: str
    city: str
    email: str
    mobile: str
    customer_id: str | None = None
    landline: str | None = None
    family_email: str | None = None
    iban: str | None = None
    tablet: str | None = None
    household: int = 0
    phone_since: date | None = None
    phone_until: date | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last1} {self.last2}"


@dataclass
class Drop:
    people: list[Person] = field(default_factory=list)
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    truth: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, table: str, key: str, owner: str, row: dict[str, object]) -> None:
        self.tables.setdefault(table, []).append(row)
        self.truth.append((table, key, owner))


def misspell(rng: random.Random, name: str) -> str:
    words = name.split()
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        j = rng.randrange(len(w) - 1)
        op = rng.choice(["swap", "drop", "double"])
        if op == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif op == "drop":
            w = w[:j] + w[j + 1 :]
        else:
            w = w[: j + 1] + w[j] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def make_iban(rng: random.Random) -> str:
    bban = "2100" + "".join(rng.choice("0123456789") for _ in range(16))
    check = std_iban.calc_check_digits("ES00" + bban)
    return std_iban.format("ES" + check + bban)


def make_people(rng: random.Random, n: int) -> list[Person]:
    people: list[Person] = []
    used_mobiles: set[str] = set()
    household = 0
    while len(people) < n:
        household += 1
        size = rng.choices([1, 2, 3, 4], weights=[55, 30, 10, 5])[0]
        postcode, city = rng.choice(CITIES)
        last = rng.choice(LAST)
        landline = f"+34 93{rng.randrange(1000000, 9999999)}" if size > 1 else None
        family = (
            f"familia.{last.lower()}.{household}@example.cat"
            if size > 1 and rng.random() < 0.25
            else None
        )
        tablet = f"tablet-{household:06d}-{rng.randrange(16**6):06x}" if size > 1 else None
        for k in range(size):
            if len(people) >= n:
                break
            pid = f"P{len(people) + 1:06d}"
            first = rng.choice(FIRST)
            last2 = rng.choice(LAST)
            while True:
                mobile = f"6{rng.randrange(10**7, 10**8)}"
                if mobile not in used_mobiles:
                    used_mobiles.add(mobile)
                    break
            birth = START.replace(year=1940) + timedelta(days=rng.randrange(365 * 60))
            email = (
                f"{first.lower()}.{last.lower()}.{len(people) + 1}@example.com"
                .replace("ú", "u").replace("í", "i").replace("à", "a").replace("è", "e")
                .replace("á", "a").replace("é", "e").replace("ó", "o")
            )  # fmt: skip
            p = Person(pid, first, last, last2, birth, postcode, city, email, mobile,
                       household=household)  # fmt: skip
            p.landline = landline
            p.family_email = family if family and k < 2 else None
            p.tablet = tablet
            p.iban = make_iban(rng) if rng.random() < 0.6 else None
            p.customer_id = f"C{len(people) + 1:06d}" if rng.random() < 0.85 else None
            people.append(p)
    # namesakes: some people get the exact name of another, with their own birth date
    for p in rng.sample(people, max(1, n // 40)):
        q = rng.choice(people)
        if q is not p:
            p.first, p.last1, p.last2 = q.first, q.last1, q.last2
    # recycled numbers: a customer's mobile was someone else's until they gave it up
    recycled = rng.sample([p for p in people if p.customer_id], max(1, n // 100))
    for new, old in zip(recycled[::2], recycled[1::2], strict=False):
        switch = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
        new.mobile = old.mobile
        old.phone_until, new.phone_since = switch, switch
    return people


def dt(rng: random.Random, start: date = START, end: date = END) -> datetime:
    day = start + timedelta(days=rng.randrange(max(1, (end - start).days)))
    return datetime(day.year, day.month, day.day, rng.randrange(8, 21), rng.randrange(60))


def generate(n: int, seed: int) -> Drop:
    rng = random.Random(seed)
    drop = Drop(make_people(rng, n))
    for p in drop.people:
        if p.customer_id:
            drop.add("crm_customers", p.customer_id, p.pid, {
                "customer_id": p.customer_id, "full_name": p.name,
                "email": p.family_email or p.email,
                "phone": p.landline if p.landline and rng.random() < 0.5 else p.mobile,
                "phone_since": p.phone_since, "phone_until": p.phone_until,
                "birth_date": p.birth.strftime("%d/%m/%Y"), "postcode": p.postcode,
                "city": p.city, "iban": p.iban,
            })  # fmt: skip
    by_household: dict[int, list[Person]] = {}
    for p in drop.people:
        by_household.setdefault(p.household, []).append(p)
    order_no = 0
    for p in drop.people:
        for _ in range(rng.randrange(0, 5)):
            order_no += 1
            key = f"O{order_no:07d}"
            shape = rng.choices(["full", "landline", "placeholder"], weights=[80, 12, 8])[0]
            iban, owners = p.iban, p.pid
            others = [q for q in by_household[p.household] if q is not p and q.iban]
            if others and rng.random() < 0.3:
                payer = rng.choice(others)  # paid with the partner's account: the row
                iban, owners = payer.iban, f"{p.pid}|{payer.pid}"  # is about both
            row: dict[str, object] = {
                "order_id": key, "ordered_at": dt(rng), "phone": p.mobile,
                "email": p.email, "name": p.name if rng.random() < 0.8 else misspell(rng, p.name),
                "iban": iban, "amount": round(rng.uniform(5, 300), 2),
            }  # fmt: skip
            if shape == "landline" and p.landline:
                row.update(phone=p.landline, email=None, name=None)
            elif shape == "placeholder":
                row.update(phone=PLACEHOLDER_PHONE, iban=None)
                owners = p.pid
            drop.add("orders", key, owners, row)
    event_no = 0
    for p in drop.people:
        for _ in range(rng.randrange(0, 6)):
            event_no += 1
            key = f"W{event_no:07d}"
            on_tablet = p.tablet is not None and rng.random() < 0.5
            logged_in = p.customer_id is not None and rng.random() < 0.7
            drop.add("web_events", key, p.pid, {
                "event_id": key, "event_time": dt(rng),
                "customer_id": p.customer_id if logged_in else None,
                "cookie_id": f"ck-{p.pid}-{'t' if on_tablet else 'm'}",
                "device_id": p.tablet if on_tablet else f"phone-{p.pid}",
                "ip": rng.choice(NAT_IPS) if rng.random() < 0.6
                      else f"198.51.{p.household % 250}.7",
            })  # fmt: skip
    ticket_no = 0
    for p in drop.people:
        for _ in range(rng.choices([0, 1, 2], weights=[60, 30, 10])[0]):
            ticket_no += 1
            key = f"T{ticket_no:06d}"
            from_home = p.landline is not None and rng.random() < 0.4
            lo = p.phone_since or START
            hi = p.phone_until or END
            opened = dt(rng, lo, hi)
            caller_name = p.name if rng.random() < 0.7 else misspell(rng, p.name)
            drop.add("tickets", key, p.pid, {
                "ticket_id": key, "opened_at": opened,
                "caller": p.landline if from_home else p.mobile,
                "caller_name": caller_name,
                "notes": rng.choice(["Consulta comanda", "Vol canviar l'adreça",
                                     f"Escriure a {p.email}", "Reclamació"]),
            })  # fmt: skip
    for p in drop.people:
        if rng.random() < 0.3:
            email = p.family_email if p.family_email and rng.random() < 0.5 else p.email
            key = f"N{len(drop.tables.get('newsletter', [])) + 1:06d}"
            drop.add("newsletter", key, p.pid,
                     {"subscriber_id": key, "email": email, "first_name": p.first})  # fmt: skip
    return drop


def requests_for(drop: Drop, rng: random.Random, count: int) -> list[dict[str, object]]:
    chosen = rng.sample(drop.people, min(count, len(drop.people)))
    out = []
    for i, p in enumerate(chosen):
        out.append({
            "request_id": f"REQ-{i + 1:05d}", "type": "access" if i % 2 else "erasure",
            "email": p.email, "customer_id": p.customer_id or "",
            "received_at": "2026-10-15", "person": p.pid,
        })  # fmt: skip
    return out


def write(drop: Drop, out: Path, requests: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for table, rows in drop.tables.items():
        with (out / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w2 = csv.writer(fh)
        w2.writerow(["table", "key", "person"])
        w2.writerows(drop.truth)
    with (out / "requests.csv").open("w", newline="", encoding="utf-8") as fh:
        w3 = csv.DictWriter(fh, fieldnames=["request_id", "type", "email", "customer_id",
                                             "received_at"])  # fmt: skip
        w3.writeheader()
        w3.writerows([{k: v for k, v in r.items() if k != "person"} for r in requests])
    with (out / "requests_truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w4 = csv.writer(fh)
        w4.writerow(["request_id", "person"])
        w4.writerows([(r["request_id"], r["person"]) for r in requests])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    drop = generate(args.people, args.seed)
    write(drop, args.out, requests_for(drop, random.Random(args.seed + 1), args.requests))
    sizes = ", ".join(f"{t}: {len(r)}" for t, r in drop.tables.items())
    print(f"wrote {args.out}: {sizes}")


if __name__ == "__main__":
    main()
