"""Synthetic people and identifiers for detection tests (deterministic; nobody real)."""

from __future__ import annotations

import random
from collections.abc import Callable

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.es import ccc
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.gr import amka as gr_amka
from stdnum.gr import vat as gr_vat
from stdnum.it import codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import nip as pl_nip
from stdnum.pl import pesel as pl_pesel
from stdnum.pt import nif as pt_nif

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _complete(prefix: str, valid: Callable[[str], bool]) -> str | None:
    for d in "0123456789":
        if valid(prefix + d):
            return prefix + d
    return None


def _many(gen: Callable[[random.Random], str | None], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        value = gen(rng)
        if value is not None:
            out.append(value)
    return out


def dni(n: int, seed: int = 1) -> list[str]:
    def gen(rng: random.Random) -> str:
        num = int(_digits(rng, 8))
        return f"{num:08d}{DNI_LETTERS[num % 23]}"

    values = _many(gen, n, seed)
    assert all(es_dni.is_valid(v) for v in values)
    return values


def dni_invalid(n: int, seed: int = 2) -> list[str]:
    """DNI-shaped values whose control letter is wrong."""

    def gen(rng: random.Random) -> str:
        num = int(_digits(rng, 8))
        return f"{num:08d}{DNI_LETTERS[(num + 1) % 23]}"

    return _many(gen, n, seed)


def nie(n: int, seed: int = 3) -> list[str]:
    def gen(rng: random.Random) -> str:
        prefix = rng.choice("XYZ")
        body = _digits(rng, 7, "0123456789")
        num = int(str("XYZ".index(prefix)) + body)
        return f"{prefix}{body}{DNI_LETTERS[num % 23]}"

    values = _many(gen, n, seed)
    assert all(es_nie.is_valid(v) for v in values)
    return values


def pesel(n: int, seed: int = 4) -> list[str]:
    def gen(rng: random.Random) -> str:
        yy, mm, dd = rng.randint(50, 99), rng.randint(1, 12), rng.randint(1, 28)
        base = f"{yy:02d}{mm:02d}{dd:02d}{rng.randint(0, 9999):04d}"
        return base + pl_pesel.calc_check_digit(base)

    values = _many(gen, n, seed)
    assert all(pl_pesel.is_valid(v) for v in values)
    return values


def nip(n: int, seed: int = 5) -> list[str]:
    return _many(lambda r: _complete(_digits(r, 9), pl_nip.is_valid), n, seed)


def amka(n: int, seed: int = 6) -> list[str]:
    def gen(rng: random.Random) -> str | None:
        base = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(50, 99):02d}"
        base += f"{rng.randint(0, 9999):04d}"
        value = base + luhn.calc_check_digit(base)
        return value if gr_amka.is_valid(value) else None

    return _many(gen, n, seed)


def afm(n: int, seed: int = 7) -> list[str]:
    def gen(rng: random.Random) -> str:
        base = _digits(rng, 8, "0123456789")
        return base + gr_vat.calc_check_digit(base)

    values = _many(gen, n, seed)
    assert all(gr_vat.is_valid(v) for v in values)
    return values


def bsn(n: int, seed: int = 8) -> list[str]:
    return _many(lambda r: _complete(_digits(r, 8), nl_bsn.is_valid), n, seed)


def pt_nif_values(n: int, seed: int = 9) -> list[str]:
    def gen(rng: random.Random) -> str:
        base = "2" + _digits(rng, 7, "0123456789")
        return base + pt_nif.calc_check_digit(base)

    return _many(gen, n, seed)


def nir(n: int, seed: int = 10) -> list[str]:
    def gen(rng: random.Random) -> str:
        base = (
            f"{rng.randint(1, 2)}{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}"
            f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
        )
        return base + fr_nir.calc_check_digits(base)

    values = _many(gen, n, seed)
    assert all(fr_nir.is_valid(v) for v in values)
    return values


def codice_fiscale(n: int, seed: int = 11) -> list[str]:
    def gen(rng: random.Random) -> str:
        letters = "BCDFGHLMNPRSTVZ"
        base = "".join(rng.choice(letters) for _ in range(6))
        base += f"{rng.randint(50, 99):02d}{rng.choice('ABCDEHLMPRST')}{rng.randint(1, 28):02d}"
        base += f"{rng.choice('ABCDEFGHILM')}{rng.randint(100, 999)}"
        return base + codicefiscale.calc_check_digit(base)

    values = _many(gen, n, seed)
    assert all(codicefiscale.is_valid(v) for v in values)
    return values


def iban_es(n: int, seed: int = 12) -> list[str]:
    def gen(rng: random.Random) -> str:
        bank, office = _digits(rng, 4), _digits(rng, 4)
        account = _digits(rng, 10, "0123456789")
        checks = ccc.calc_check_digits(bank + office + "00" + account)
        bban = bank + office + checks + account
        value = "ES" + std_iban.calc_check_digits("ES00" + bban) + bban
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))

    values = _many(gen, n, seed)
    assert all(std_iban.is_valid(v) for v in values)
    return values


def card(n: int, seed: int = 13) -> list[str]:
    def gen(rng: random.Random) -> str:
        base = "4" + _digits(rng, 14, "0123456789")
        value = base + luhn.calc_check_digit(base)
        return " ".join(value[i : i + 4] for i in range(0, 16, 4))

    return _many(gen, n, seed)


def es_phones(n: int, seed: int = 14) -> list[str]:
    def gen(rng: random.Random) -> str:
        d = rng.choice(["6", "6", "71", "91", "93", "976"])
        d += _digits(rng, 9 - len(d), "0123456789")
        return rng.choice([d, f"{d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]} {d[3:5]} {d[5:7]} {d[7:]}"])

    return _many(gen, n, seed)


def pl_phones(n: int, seed: int = 15) -> list[str]:
    def gen(rng: random.Random) -> str:
        d = rng.choice(["50", "51", "53", "60", "66", "69", "72", "78", "88"]) + _digits(
            rng, 7, "0123456789"
        )
        return rng.choice([d, f"{d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}"])

    return _many(gen, n, seed)


def gr_phones(n: int, seed: int = 16) -> list[str]:
    def gen(rng: random.Random) -> str:
        d = rng.choice(["69", "21", "2310", "2610"])
        d += _digits(rng, 10 - len(d), "0123456789")
        return rng.choice([d, f"{d[:4]} {d[4:]}", f"+30 {d}"])

    return _many(gen, n, seed)


FIRST = {
    "es": ["María", "José", "Lucía", "Javier", "Carmen", "Álvaro", "Inés", "Raúl"],
    "ca": ["Núria", "Jordi", "Montserrat", "Pau", "Mireia", "Oriol", "Laia", "Arnau"],
    "pl": ["Łukasz", "Małgorzata", "Piotr", "Zofia", "Wojciech", "Agnieszka", "Paweł"],
    "el": ["Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Δημήτρης", "Αικατερίνη", "Κώστας"],
    "en": ["Oliver", "Emily", "James", "Charlotte", "Harry", "Sophie", "Jack"],
}
LAST = {
    "es": ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Ruiz"],
    "ca": ["Puig i Soler", "Vila", "Ferrer", "Serra", "Pujol", "Casals", "Roca"],
    "pl": ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska"],
    "el": ["Παπαδόπουλος", "Ρίζος", "Οικονόμου", "Γεωργίου", "Νικολάου", "Μακρής"],
    "en": ["Smith", "Johnson", "Brown", "Taylor", "Walker", "Wright", "Evans"],
}


def full_names(lang: str, n: int, seed: int = 17) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(FIRST[lang])} {rng.choice(LAST[lang])}" for _ in range(n)]


def first_names(lang: str, n: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(FIRST[lang]) for _ in range(n)]


def last_names(lang: str, n: int, seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(LAST[lang]).split(" ")[0] for _ in range(n)]
