"""The entity vocabulary and the identifier registry: one spec per identifier type.

Everything Tutela knows about a kind of identifier lives in its `IdentifierSpec`: the entity
it is reported as, its shape (an RE2 pattern DuckDB runs over whole columns), its checksum
(a python-stdnum module or a function here), the column-header words that name it, the
words that announce it in free text and the pattern that finds it there. The scanner
(`tutela.detect`) and the policy language (`tutela.policy`) derive every table they need
from this module, so adding an identifier is adding one spec below.

Coverage: every personal national, tax and social-security identifier and every bank-account
format python-stdnum validates for the EU/EEA countries, the United Kingdom and
Switzerland; EU (and GB, CH, NO) VAT numbers, which identify sole traders as well as
companies; identity-card numbers without a checksum (Greek, Italian, German, Dutch) found
by header and shape; and a few formats stdnum lacks (UK NINO, Spanish NSS, Polish NRB and
identity card). Company-only registers (CIF, SIREN, REGON, ...) are listed with
`entity=None`: recognised, and reported as not personal data.

Checksum strength decides what the value alone may prove:

* ``strong``: a check that random digits pass about once in a hundred or less, or a shape
  no other data has: enough on its own, in a column and in text;
* ``weak``: a mod-10/mod-11 check (about one random number in ten passes): enough for a
  column when most sampled values pass, but in free text a context word must be near;
* ``none``: a format or an embedded date only: a column needs a header naming the
  identifier, free text a context word, and confidence is lower.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from tutela.base.text import compact


class Entity(StrEnum):
    """The personal-data entities (docs/entities.md)."""

    PERSON = "PERSON"
    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    POSTAL_ADDRESS = "POSTAL_ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    NATIONAL_ID = "NATIONAL_ID"
    TAX_ID = "TAX_ID"
    PASSPORT = "PASSPORT"
    IBAN_CODE = "IBAN_CODE"
    CREDIT_CARD = "CREDIT_CARD"
    IP_ADDRESS = "IP_ADDRESS"
    MAC_ADDRESS = "MAC_ADDRESS"
    ONLINE_ID = "ONLINE_ID"
    GEOLOCATION = "GEOLOCATION"


# Entity -> fideslang data category.
ENTITY_CATEGORY: dict[Entity, str] = {
    Entity.PERSON: "user.name",
    Entity.EMAIL_ADDRESS: "user.contact.email",
    Entity.PHONE_NUMBER: "user.contact.phone_number",
    Entity.POSTAL_ADDRESS: "user.contact.address",
    Entity.DATE_OF_BIRTH: "user.demographic.date_of_birth",
    Entity.NATIONAL_ID: "user.government_id",
    Entity.TAX_ID: "user.government_id",
    Entity.PASSPORT: "user.government_id.passport_number",
    Entity.IBAN_CODE: "user.financial.bank_account",
    Entity.CREDIT_CARD: "user.financial.credit_card",
    Entity.IP_ADDRESS: "user.device.ip_address",
    Entity.MAC_ADDRESS: "user.device.device_id",
    Entity.ONLINE_ID: "user.device.cookie_id",
    Entity.GEOLOCATION: "user.location.precise",
}

# Quasi-identifiers are reported with entity null; their fideslang category goes in evidence.
QUASI_CATEGORIES: dict[str, str] = {
    "POSTCODE": "user.contact.address.postal_code",
    "CITY": "user.contact.address.city",
    "GENDER": "user.demographic.gender",
    "AGE": "user.demographic.age_range",
    "COARSE_LOCATION": "user.location.imprecise",
}


class Strength(StrEnum):
    STRONG = "strong"
    WEAK = "weak"
    NONE = "none"


class Holder(StrEnum):
    PERSON = "person"
    PERSON_OR_BUSINESS = "person_or_business"  # VAT numbers: sole traders and companies
    BUSINESS = "business"


Check = Callable[[str], bool]


@dataclass(frozen=True)
class IdentifierSpec:
    """One identifier type. `shape` is RE2 over the compacted value (upper case, no spaces,
    dots, dashes or slashes) unless `on_raw`; `check` is a python-stdnum module path, a
    function, or None (format only); `headers` are folded header words (any language);
    `context` are folded words that announce it in free text; `text` finds it in text."""

    code: str
    entity: Entity | None  # None: identifies a business, never a person
    countries: tuple[str, ...]
    label: str
    shape: str
    check: str | Check | None
    strength: Strength
    headers: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    text: str | None = None
    needs_hint: bool = False  # the column header must name it (or its entity)
    on_raw: bool = False  # shape runs over the trimmed value as written
    holder: Holder = Holder.PERSON
    tax_form: str | None = None  # reported as this TAX_ID subtype under a tax header
    distinct_text: bool = False  # the text pattern alone is specific (dashed SSN, card groups)
    weak_in_text: bool = False  # strong as a whole column value, loose inside text (VAT)

    @property
    def personal(self) -> bool:
        return self.entity is not None

    @property
    def text_needs_context(self) -> bool:
        """In free text, a match counts only with a context word near it."""
        return self.weak_in_text or (
            self.strength is not Strength.STRONG and not self.distinct_text
        )

    @property
    def own_context_only(self) -> bool:
        """Format-only identifiers count in text only next to their own words (`PEID`,
        `Steuernummer`), not any tax or identity word."""
        return self.strength is Strength.NONE

    @property
    def text_score(self) -> float:
        return {Strength.STRONG: 0.85, Strength.WEAK: 0.4, Strength.NONE: 0.6}[self.strength]

    def validate(self, value: str) -> bool:
        """True when `value` has this identifier's form and checksum."""
        if self.check is None:
            target = value.strip() if self.on_raw else compact(value)
            return _rx(self.shape).fullmatch(target) is not None
        check = _load(self.check) if isinstance(self.check, str) else self.check
        try:
            return bool(check(value))
        except Exception:  # stdnum raises on odd input; odd input is simply not valid
            return False


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def _load(module: str) -> Check:
    """`stdnum.be.nn` -> its `is_valid`, imported on first use (most scans need few)."""
    mod = importlib.import_module(module)
    return mod.is_valid  # type: ignore[no-any-return]


# -- validators python-stdnum does not have --------------------------------------------------

_NINO = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def is_uk_nino(value: str) -> bool:
    """UK National Insurance number: prefix letters from the allowed sets, suffix A-D."""
    return bool(_NINO.match(compact(value)))


def is_card(value: str) -> bool:
    from stdnum import luhn

    digits = compact(value)
    return digits.isdigit() and 13 <= len(digits) <= 19 and bool(luhn.is_valid(digits))


def is_es_nss(value: str) -> bool:
    """Spanish social-security number (NAF): province 01-53, 8 digits, 2 control digits.

    Control = the first ten digits mod 97; for numbers below 10,000,000 the Seguridad
    Social computes it over province * 10^7 + number, and both forms are in use.
    """
    v = compact(value)
    if len(v) != 12 or not v.isdigit() or not 1 <= int(v[:2]) <= 53:
        return False
    control = int(v[10:])
    number = int(v[2:10])
    if int(v[:10]) % 97 == control:
        return True
    return number < 10_000_000 and (int(v[:2]) * 10_000_000 + number) % 97 == control


def is_pl_nrb(value: str) -> bool:
    """Polish domestic account number (NRB): the 26 digits of a PL IBAN without `PL`."""
    from stdnum import iban

    v = compact(value)
    return len(v) == 26 and v.isdigit() and bool(iban.is_valid("PL" + v))


_PL_ID_WEIGHTS = (7, 3, 1, 9, 7, 3, 1, 7, 3)


def is_pl_id_card(value: str) -> bool:
    """Polish identity card (dowód osobisty): AAA999999, check digit in position 4."""
    v = compact(value)
    if not re.fullmatch(r"[A-Z]{3}[0-9]{6}", v):
        return False
    digits = [ord(c) - 55 for c in v[:3]] + [int(c) for c in v[3:]]
    return sum(d * w for d, w in zip(digits, _PL_ID_WEIGHTS, strict=True)) % 10 == 0


def _strip_prefix(prefixes: tuple[str, ...], module: str) -> Check:
    """At most one country prefix, then digits only (`EL EL 094501040` is not valid)."""

    def run(value: str) -> bool:
        v = compact(value).replace(":", "")  # `EL: 094279805`, as python-stdnum cleans it
        for prefix in prefixes:
            if v.startswith(prefix):
                v = v[len(prefix) :]
                break
        return v.isdigit() and _load(module)(v)

    return run


# -- patterns for free text ------------------------------------------------------------------


def _digits(n: int) -> str:
    """n digits with at most one separator between any two (`123 456 789`, `12.345.678`)."""
    return rf"\b[0-9](?:[ .\-/]?[0-9]){{{n - 1}}}\b"


_S = r"[ .\-/]?"

# -- the registry ----------------------------------------------------------------------------

NID, TAX, IBAN, CARD, PASS = (
    Entity.NATIONAL_ID,
    Entity.TAX_ID,
    Entity.IBAN_CODE,
    Entity.CREDIT_CARD,
    Entity.PASSPORT,
)
STRONG, WEAK, NONE = Strength.STRONG, Strength.WEAK, Strength.NONE
_EU_VAT_PREFIX = (
    "AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI"
)

SPECS: tuple[IdentifierSpec, ...] = (
    # --- Spain
    IdentifierSpec(
        "ES_DNI", NID, ("ES",), "Spanish DNI", r"^[0-9]{8}[A-Z]$", "stdnum.es.dni", STRONG,
        ("dni", "dni nie", "documento nacional de identidad", "numero dni"),
        ("dni", "documento", "identidad"), r"\b[0-9]{8}[-\s]?[A-Z]\b", tax_form="ES_NIF",
    ),
    IdentifierSpec(
        "ES_NIE", NID, ("ES",), "Spanish NIE (foreigners)", r"^[XYZ][0-9]{7}[A-Z]$",
        "stdnum.es.nie", STRONG, ("nie", "numero de identidad de extranjero", "numero nie"),
        ("nie", "extranjero"), r"\b[XYZ][-\s]?[0-9]{7}[-\s]?[A-Z]\b", tax_form="ES_NIF",
    ),
    IdentifierSpec(
        "ES_NSS", NID, ("ES",), "Spanish social-security number (NSS/NAF)", r"^[0-9]{12}$",
        is_es_nss, WEAK,
        ("nss", "naf", "numero afiliacion", "numero seguridad social", "seguridad social",
         "numero de la seguridad social", "n afiliacion"),
        ("nss", "naf", "afiliacion", "afiliado", "seguridad social", "seg. social"),
        r"\b[0-9]{2}[ /\-]?[0-9]{8}[ /\-]?[0-9]{2}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "ES_CCC", IBAN, ("ES",), "Spanish bank account (CCC)", r"^[0-9]{20}$",
        "stdnum.es.ccc", STRONG, ("ccc", "codigo cuenta cliente", "numero de cuenta"),
        ("ccc", "cuenta"), rf"\b[0-9]{{4}}{_S}[0-9]{{4}}{_S}[0-9]{{2}}{_S}[0-9]{{10}}\b",
    ),
    IdentifierSpec(
        "ES_CIF", None, ("ES",), "Spanish company tax code (CIF)",
        r"^[ABCDEFGHJNPQRSUVW][0-9]{7}[0-9A-J]$", "stdnum.es.cif", STRONG, ("cif",),
        holder=Holder.BUSINESS,
    ),
    # --- Poland
    IdentifierSpec(
        "PL_PESEL", NID, ("PL",), "Polish PESEL", r"^[0-9]{11}$", "stdnum.pl.pesel", WEAK,
        ("pesel", "numer pesel", "nr pesel"), ("pesel",), _digits(11),
    ),
    IdentifierSpec(
        "PL_NIP", TAX, ("PL",), "Polish NIP", r"^(PL)?[0-9]{10}$",
        _strip_prefix(("PL",), "stdnum.pl.nip"), WEAK,
        ("nip", "numer nip", "numer identyfikacji podatkowej"), ("nip", "podatkowy"),
        r"\b(?:PL)?[0-9]{3}-?[0-9]{3}-?[0-9]{2}-?[0-9]{2}\b|\b[0-9]{3}-[0-9]{2}-[0-9]{2}-[0-9]{3}\b",
    ),
    IdentifierSpec(
        "PL_NRB", IBAN, ("PL",), "Polish domestic bank account (NRB)", r"^[0-9]{26}$",
        is_pl_nrb, STRONG,
        ("nrb", "numer rachunku", "nr rachunku", "numer rachunku bankowego", "numer konta",
         "nr konta", "rachunek bankowy"),
        ("rachunek", "rachunku", "konto", "konta", "nrb"),
        rf"\b[0-9]{{2}}{_S}(?:[0-9]{{4}}{_S}){{5}}[0-9]{{4}}\b",
    ),
    IdentifierSpec(
        "PL_ID_CARD", NID, ("PL",), "Polish identity card (dowód osobisty)",
        r"^[A-Z]{3}[0-9]{6}$", is_pl_id_card, WEAK,  # a mod-10 check digit
        ("dowod osobisty", "numer dowodu", "nr dowodu", "seria i numer dowodu", "dowod"),
        ("dowod", "dowodu", "osobisty"), r"\b[A-Z]{3}\s?[0-9]{6}\b",
    ),
    IdentifierSpec(
        "PL_REGON", None, ("PL",), "Polish business register (REGON)", r"^([0-9]{9}|[0-9]{14})$",
        "stdnum.pl.regon", WEAK, ("regon",), needs_hint=True, holder=Holder.BUSINESS,
    ),
    # --- Greece and Cyprus
    IdentifierSpec(
        "GR_AMKA", NID, ("GR",), "Greek social-security number (AMKA)", r"^[0-9]{11}$",
        "stdnum.gr.amka", WEAK, ("amka", "αμκα", "αριθμοσ μητρωου κοινωνικησ ασφαλισησ"),
        ("αμκα", "α.μ.κ.α", "amka"), _digits(11),
    ),
    IdentifierSpec(
        "GR_AFM", TAX, ("GR",), "Greek tax number (AFM)", r"^(EL|GR)?[0-9]{9}$",
        _strip_prefix(("EL", "GR"), "stdnum.gr.vat"), WEAK,
        ("afm", "αφμ", "αριθμοσ φορολογικου μητρωου"), ("αφμ", "α.φ.μ", "afm"),
        r"\b(?:EL|GR)?[0-9]{9}\b",
    ),
    IdentifierSpec(
        "GR_ID_CARD", NID, ("GR",), "Greek identity card (ΑΔΤ)", r"^[A-ZΑ-Ω]{1,2}[0-9]{6}$",
        None, NONE,
        ("αδτ", "α δ τ", "αριθμοσ ταυτοτητασ", "αρ ταυτοτητασ", "δελτιο ταυτοτητασ",
         "ταυτοτητα", "greek id card"),
        ("ταυτότητα", "ταυτότητας", "ταυτοτητα", "ταυτοτητασ", "αδτ", "α.δ.τ"),
        r"(?<![\w])[A-ZΑ-Ω]{1,2}[ \-]?[0-9]{6}\b",
    ),
    # --- Portugal
    IdentifierSpec(
        "PT_NIF", TAX, ("PT",), "Portuguese tax number (NIF)", r"^(PT)?[0-9]{9}$",
        _strip_prefix(("PT",), "stdnum.pt.nif"), WEAK,
        ("nif", "numero contribuinte", "contribuinte", "numero de contribuinte",
         "numero de identificacao fiscal"),
        ("nif", "contribuinte"), r"\b(?:PT\s?)?[0-9]{3}\s?[0-9]{3}\s?[0-9]{3}\b",
    ),
    IdentifierSpec(
        "PT_CC", NID, ("PT",), "Portuguese citizen card (Cartão de Cidadão)",
        r"^[0-9]{9}[A-Z]{2}[0-9]$", "stdnum.pt.cc", STRONG,
        ("cartao de cidadao", "cartao cidadao", "numero cc", "n cc",
         "numero de identificacao civil", "numero bi"),
        ("cartão", "cidadão", "cartao", "cidadao", "identificação"),
        r"\b[0-9]{8}\s?[0-9]\s?[A-Z]{2}[0-9]\b",
    ),
    # --- Italy
    IdentifierSpec(
        "IT_CF", TAX, ("IT",), "Italian codice fiscale",
        r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$",
        "stdnum.it.codicefiscale", STRONG,
        ("codice fiscale", "cod fiscale", "codicefiscale", "cf"), ("codice", "fiscale", "cf"),
        r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b",
    ),
    IdentifierSpec(
        "IT_ID_CARD", NID, ("IT",), "Italian identity card (CIE)",
        r"^(C[A-Z][0-9]{5}[A-Z]{2}|[A-Z]{2}[0-9]{7})$", None, NONE,
        ("carta d identita", "carta identita", "numero carta identita", "cie",
         "numero documento identita"),
        ("carta d'identità", "identità", "cie"), r"\b(?:C[A-Z][0-9]{5}[A-Z]{2}|[A-Z]{2}[0-9]{7})\b",
    ),
    # --- France
    IdentifierSpec(
        "FR_NIR", NID, ("FR",), "French social-security number (NIR)",
        r"^[12][0-9]{4}(2A|2B|[0-9]{2})[0-9]{8}$", "stdnum.fr.nir", STRONG,
        ("nir", "insee", "numero insee", "securite sociale", "numero securite sociale",
         "numero de securite sociale"),
        ("nir", "sécurité", "sociale", "insee"),
        r"\b[12]\s?[0-9]{2}\s?[0-9]{2}\s?(?:2A|2B|[0-9]{2})\s?[0-9]{3}\s?[0-9]{3}\s?[0-9]{2}\b",
    ),
    IdentifierSpec(
        "FR_NIF", TAX, ("FR",), "French tax number (numéro fiscal)", r"^[0-3][0-9]{12}$",
        "stdnum.fr.nif", STRONG,
        ("numero fiscal", "numero fiscal de reference", "numero d identification fiscale"),
        ("fiscal",), r"\b[0-3][0-9]\s?[0-9]{2}\s?[0-9]{3}\s?[0-9]{3}\s?[0-9]{3}\b",
    ),
    IdentifierSpec(
        "FR_SIREN", None, ("FR",), "French company number (SIREN)", r"^[0-9]{9}$",
        "stdnum.fr.siren", WEAK, ("siren",), needs_hint=True, holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "FR_SIRET", None, ("FR",), "French establishment number (SIRET)", r"^[0-9]{14}$",
        "stdnum.fr.siret", WEAK, ("siret",), needs_hint=True, holder=Holder.BUSINESS,
    ),
    # --- Germany
    IdentifierSpec(
        "DE_IDNR", TAX, ("DE",), "German tax id (Steuer-IdNr)", r"^[1-9][0-9]{10}$",
        "stdnum.de.idnr", WEAK,
        ("steuer id", "steuerid", "steuer idnr", "steueridentifikationsnummer",
         "steuerliche identifikationsnummer", "idnr", "identifikationsnummer"),
        ("steuer-id", "steuer", "identifikationsnummer", "idnr"), _digits(11),
    ),
    IdentifierSpec(
        "DE_STNR", TAX, ("DE",), "German tax number (Steuernummer)", r"^[0-9]{10,13}$",
        "stdnum.de.stnr", NONE, ("steuernummer", "stnr", "st nr"), ("steuernummer", "st.-nr"),
        r"\b[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "DE_ID_CARD", NID, ("DE",), "German identity card (Personalausweis)",
        r"^[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}$", None, NONE,
        ("personalausweis", "personalausweisnummer", "ausweisnummer", "ausweis nr",
         "ausweis"),
        ("ausweis", "personalausweis", "ausweisnummer"),
        r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\b",
    ),
    # --- Netherlands
    IdentifierSpec(
        "NL_BSN", NID, ("NL",), "Dutch citizen service number (BSN)", r"^[0-9]{9}$",
        "stdnum.nl.bsn", WEAK, ("bsn", "burgerservicenummer", "sofinummer", "bsn nummer"),
        ("bsn", "burgerservicenummer", "sofinummer", "sofi"), r"\b[0-9]{9}\b",
    ),
    IdentifierSpec(
        "NL_ONDERWIJSNUMMER", NID, ("NL",), "Dutch student number (onderwijsnummer)",
        r"^10[0-9]{7}$", "stdnum.nl.onderwijsnummer", WEAK, ("onderwijsnummer",),
        ("onderwijsnummer",), r"\b10[0-9]{2}\.?[0-9]{2}\.?[0-9]{3}\b",
    ),
    IdentifierSpec(
        "NL_ID_DOCUMENT", NID, ("NL",), "Dutch identity card or passport number",
        r"^[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]$", "stdnum.nl.identiteitskaartnummer", NONE,
        ("identiteitskaartnummer", "documentnummer", "paspoortnummer", "id kaart nummer"),
        ("identiteitskaart", "paspoort", "documentnummer"), r"\b[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]\b",
    ),
    # --- Belgium
    IdentifierSpec(
        "BE_NN", NID, ("BE",), "Belgian national number (Rijksregisternummer / NISS)",
        r"^[0-9]{11}$", "stdnum.be.nn", STRONG,
        ("rijksregisternummer", "rijksregister", "numero de registre national",
         "registre national", "nationaal nummer", "numero national", "rrn", "niss", "insz",
         "numero niss", "insz nummer"),
        ("rijksregisternummer", "rijksregister", "registre national", "niss", "insz", "rrn"),
        rf"\b[0-9]{{2}}{_S}[0-9]{{2}}{_S}[0-9]{{2}}{_S}[0-9]{{3}}{_S}[0-9]{{2}}\b",
    ),
    IdentifierSpec(
        "BE_BIS", NID, ("BE",), "Belgian BIS number", r"^[0-9]{11}$", "stdnum.be.bis", STRONG,
        ("bisnummer", "bis nummer", "numero bis"), ("bis-nummer", "bisnummer", "numéro bis"),
        rf"\b[0-9]{{2}}{_S}[0-9]{{2}}{_S}[0-9]{{2}}{_S}[0-9]{{3}}{_S}[0-9]{{2}}\b",
    ),
    IdentifierSpec(
        "BE_EID", NID, ("BE",), "Belgian identity card number (eID)", r"^[0-9]{12}$",
        "stdnum.be.eid", WEAK,  # mod 97 like the Spanish NSS and Belgian payment refs
        ("eid nummer", "eid kaart", "eid kaartnummer", "numero carte eid", "carte eid"),
        ("eid", "identiteitskaart", "carte d'identité"),
        rf"\b[0-9]{{3}}{_S}[0-9]{{7}}{_S}[0-9]{{2}}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "BE_VAT", None, ("BE",), "Belgian enterprise number", r"^(BE)?[01][0-9]{9}$",
        "stdnum.be.vat", STRONG, ("ondernemingsnummer", "numero d entreprise", "kbo"),
        needs_hint=True, holder=Holder.BUSINESS,
    ),
    # --- Austria, Switzerland, Liechtenstein
    IdentifierSpec(
        "AT_VNR", NID, ("AT",), "Austrian social-security number (VNR)", r"^[0-9]{10}$",
        "stdnum.at.vnr", WEAK,
        ("vnr", "svnr", "vsnr", "versicherungsnummer", "sozialversicherungsnummer", "sv nummer"),
        ("versicherungsnummer", "sozialversicherungsnummer", "svnr", "vsnr"),
        rf"\b[0-9]{{4}}{_S}[0-9]{{6}}\b",
    ),
    IdentifierSpec(
        "AT_TIN", TAX, ("AT",), "Austrian tax number (Abgabenkontonummer)", r"^[0-9]{9}$",
        "stdnum.at.tin", WEAK, ("abgabenkontonummer", "steuernummer"),
        ("abgabenkontonummer", "steuernummer"), r"\b[0-9]{2}-[0-9]{3}/[0-9]{4}\b",
        needs_hint=True,
    ),
    IdentifierSpec(
        "CH_SSN", NID, ("CH",), "Swiss social-security number (AHV/AVS)", r"^756[0-9]{10}$",
        "stdnum.ch.ssn", STRONG,
        ("ahv", "ahv nummer", "ahv nr", "avs", "numero avs", "sozialversicherungsnummer"),
        ("ahv", "avs", "sozialversicherungsnummer"),
        rf"\b756{_S}[0-9]{{4}}{_S}[0-9]{{4}}{_S}[0-9]{{2}}\b",
    ),
    IdentifierSpec(
        "CH_VAT", TAX, ("CH",), "Swiss VAT number (MWST/TVA/IVA)",
        r"^CHE[0-9]{9}(MWST|TVA|IVA|TPV)?$", "stdnum.ch.vat", STRONG,
        ("mwst", "mwst nummer", "uid mwst"), ("mwst", "tva", "iva"),
        r"\bCHE[ \-]?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}(?:\s?(?:MWST|TVA|IVA|TPV))?\b",
        holder=Holder.PERSON_OR_BUSINESS,
    ),
    IdentifierSpec(
        "CH_UID", None, ("CH",), "Swiss business number (UID)", r"^CHE[0-9]{9}$",
        "stdnum.ch.uid", STRONG,
        ("che uid", "uid nummer", "unternehmens identifikationsnummer"), holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "LI_PEID", TAX, ("LI",), "Liechtenstein tax code (PEID)", r"^[0-9]{4,12}$",
        "stdnum.li.peid", NONE, ("peid", "personenidentifikationsnummer"), ("peid",),
        r"\b[0-9]{4,12}\b", needs_hint=True, holder=Holder.PERSON_OR_BUSINESS,
    ),
    # --- Nordics and Baltics
    IdentifierSpec(
        "DK_CPR", NID, ("DK",), "Danish CPR number", r"^[0-9]{10}$", "stdnum.dk.cpr", NONE,
        ("cpr", "cpr nummer", "cprnr", "personnummer"), ("cpr", "cpr-nummer", "personnummer"),
        r"\b[0-9]{6}-?[0-9]{4}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "DK_CVR", None, ("DK",), "Danish business number (CVR)", r"^(DK)?[0-9]{8}$",
        "stdnum.dk.cvr", WEAK, ("cvr", "cvr nummer"), needs_hint=True, holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "SE_PERSONNUMMER", NID, ("SE",), "Swedish personal identity number",
        r"^([0-9]{2})?[0-9]{6}[+]?[0-9]{4}$", "stdnum.se.personnummer", WEAK,
        ("personnummer", "personnr", "personnummret"), ("personnummer", "personnr"),
        r"\b(?:19|20)?[0-9]{6}[\-+]?[0-9]{4}\b",
    ),
    IdentifierSpec(
        "SE_ORGNR", None, ("SE",), "Swedish organisation number", r"^[0-9]{10}$",
        "stdnum.se.orgnr", WEAK, ("organisationsnummer", "orgnr"), needs_hint=True,
        holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "NO_FODSELSNUMMER", NID, ("NO",), "Norwegian birth number (fødselsnummer)",
        r"^[0-9]{11}$", "stdnum.no.fodselsnummer", STRONG,
        ("fodselsnummer", "personnummer", "fnr"), ("fødselsnummer", "fodselsnummer"),
        rf"\b[0-9]{{6}}{_S}[0-9]{{5}}\b",
    ),
    IdentifierSpec(
        "NO_KONTONR", IBAN, ("NO",), "Norwegian bank account number", r"^[0-9]{11}$",
        "stdnum.no.kontonr", WEAK, ("kontonummer", "kontonr", "konto nr"),
        ("kontonummer", "kontonr", "konto"), rf"\b[0-9]{{4}}{_S}[0-9]{{2}}{_S}[0-9]{{5}}\b",
        needs_hint=True,
    ),
    IdentifierSpec(
        "NO_MVA", TAX, ("NO",), "Norwegian VAT number (MVA)", r"^NO[0-9]{9}MVA$",
        "stdnum.no.mva", STRONG, ("mva", "mva nummer"), ("mva",),
        r"\bNO\s?[0-9]{3}\s?[0-9]{3}\s?[0-9]{3}\s?MVA\b", holder=Holder.PERSON_OR_BUSINESS,
    ),
    IdentifierSpec(
        "NO_ORGNR", None, ("NO",), "Norwegian organisation number", r"^[0-9]{9}$",
        "stdnum.no.orgnr", WEAK, ("organisasjonsnummer", "orgnr"), needs_hint=True,
        holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "FI_HETU", NID, ("FI",), "Finnish personal identity code (HETU)",
        r"^[0-9]{6}[+A-FU-Y]?[0-9]{3}[0-9A-Y]$", "stdnum.fi.hetu", STRONG,
        ("hetu", "henkilotunnus", "personbeteckning", "sotu"), ("hetu", "henkilötunnus"),
        r"\b[0-9]{6}[\-+A-FU-Y][0-9]{3}[0-9A-Y]\b",
    ),
    IdentifierSpec(
        "FI_VERONUMERO", TAX, ("FI",), "Finnish individual tax number", r"^[0-9]{12}$",
        "stdnum.fi.veronumero", NONE, ("veronumero",), ("veronumero",), r"\b[0-9]{12}\b",
        needs_hint=True,
    ),
    IdentifierSpec(
        "FI_YTUNNUS", None, ("FI",), "Finnish business id (Y-tunnus)", r"^[0-9]{8}$",
        "stdnum.fi.ytunnus", WEAK, ("ytunnus", "y tunnus"), needs_hint=True,
        holder=Holder.BUSINESS,
    ),
    IdentifierSpec(
        "IS_KENNITALA", NID, ("IS",), "Icelandic personal id (kennitala)", r"^[0-9]{10}$",
        "stdnum.is_.kennitala", WEAK, ("kennitala",), ("kennitala",),
        r"\b[0-9]{6}-?[0-9]{4}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "EE_IK", NID, ("EE",), "Estonian personal id (isikukood)", r"^[1-6][0-9]{10}$",
        "stdnum.ee.ik", WEAK, ("isikukood",), ("isikukood",), _digits(11),
    ),
    IdentifierSpec(
        "LT_ASMENS", NID, ("LT",), "Lithuanian personal code (asmens kodas)",
        r"^[1-6][0-9]{10}$", "stdnum.lt.asmens", WEAK, ("asmens kodas", "asmens kodo"),
        ("asmens",), _digits(11),
    ),
    IdentifierSpec(
        "LV_PERSONAS_KODS", NID, ("LV",), "Latvian personal code (personas kods)",
        r"^[0-3][0-9]{10}$", "stdnum.lv.pvn", WEAK, ("personas kods", "personas kodu"),
        ("personas",), r"\b[0-9]{6}-?[0-9]{5}\b",
    ),
    # --- Central and south-east Europe
    IdentifierSpec(
        "CZ_RC", NID, ("CZ", "SK"), "Czech/Slovak birth number (rodné číslo)",
        r"^[0-9]{9,10}$", "stdnum.cz.rc", WEAK, ("rodne cislo", "rodneho cisla"),
        ("rodné", "číslo", "rodne"), r"\b[0-9]{6}/[0-9]{3,4}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "CZ_BANKACCOUNT", IBAN, ("CZ",), "Czech bank account number",
        r"^([0-9]{1,6}-)?[0-9]{2,10}/[0-9]{4}$", "stdnum.cz.bankaccount", STRONG,
        ("cislo uctu", "bankovni ucet"), ("účet", "účtu", "ucet"),
        r"\b(?:[0-9]{1,6}-)?[0-9]{2,10}/[0-9]{4}\b", on_raw=True,
    ),
    IdentifierSpec(
        "HR_OIB", NID, ("HR",), "Croatian personal id (OIB)", r"^(HR)?[0-9]{11}$",
        _strip_prefix(("HR",), "stdnum.hr.oib"), WEAK, ("oib",), ("oib",), _digits(11),
    ),
    IdentifierSpec(
        "SI_EMSO", NID, ("SI",), "Slovenian personal number (EMŠO)", r"^[0-9]{13}$",
        "stdnum.si.emso", WEAK, ("emso",), ("emšo", "emso"), r"\b[0-9]{13}\b",
    ),
    IdentifierSpec(
        "RO_CNP", NID, ("RO",), "Romanian personal numeric code (CNP)", r"^[1-9][0-9]{12}$",
        "stdnum.ro.cnp", WEAK, ("cnp", "cod numeric personal"), ("cnp",), r"\b[1-9][0-9]{12}\b",
    ),
    IdentifierSpec(
        "BG_EGN", NID, ("BG",), "Bulgarian personal number (EGN)", r"^[0-9]{10}$",
        "stdnum.bg.egn", WEAK, ("egn", "егн"), ("егн", "egn"), r"\b[0-9]{10}\b",
        needs_hint=True,
    ),
    IdentifierSpec(
        "BG_PNF", NID, ("BG",), "Bulgarian foreigner number (LNCh)", r"^[0-9]{10}$",
        "stdnum.bg.pnf", WEAK, ("lnch", "лнч", "pnf"), ("лнч", "lnch"), _digits(10),
        needs_hint=True,
    ),
    # --- Ireland and the United Kingdom
    IdentifierSpec(
        "IE_PPS", NID, ("IE",), "Irish PPS number", r"^[0-9]{7}[A-W][ABHWTX]?$",
        "stdnum.ie.pps", STRONG, ("pps", "ppsn", "pps number", "ppsn number"),
        ("pps", "ppsn"), r"\b[0-9]{7}[A-W][ABHWTX]?\b",
    ),
    IdentifierSpec(
        "UK_NINO", NID, ("GB",), "UK National Insurance number", r"^[A-Z]{2}[0-9]{6}[A-D]$",
        is_uk_nino, STRONG,
        ("nino", "national insurance", "national insurance number", "ni number", "nin"),
        ("nino", "national", "insurance"),
        r"\b[A-Z]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[A-D]\b",
    ),
    IdentifierSpec(
        "GB_NHS", NID, ("GB",), "NHS number", r"^[0-9]{10}$", "stdnum.gb.nhs", WEAK,
        ("nhs", "nhs number", "nhs no"), ("nhs",), rf"\b[0-9]{{3}}{_S}[0-9]{{3}}{_S}[0-9]{{4}}\b",
        needs_hint=True,
    ),
    IdentifierSpec(
        "GB_UTR", TAX, ("GB",), "UK Unique Taxpayer Reference", r"^K?[0-9]{10}K?$",
        "stdnum.gb.utr", WEAK, ("utr", "unique taxpayer reference", "utr number"),
        ("utr", "taxpayer"), r"\b[0-9]{5}\s?[0-9]{5}\b", needs_hint=True,
    ),
    IdentifierSpec(
        "GB_UPN", NID, ("GB",), "English Unique Pupil Number", r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-Z]$",
        "stdnum.gb.upn", STRONG, ("upn", "unique pupil number"), ("upn", "pupil"),
        r"\b[A-HJ-NP-RT-Z][0-9]{11}[0-9A-Z]\b",
    ),
    IdentifierSpec(
        "GB_VAT", TAX, ("GB",), "UK VAT number", r"^GB([0-9]{9}|[0-9]{12}|GD[0-9]{3}|HA[0-9]{3})$",
        "stdnum.gb.vat", STRONG, ("vat reg", "vat registration number"), ("vat",),
        r"\bGB\s?[0-9]{3}\s?[0-9]{4}\s?[0-9]{2}(?:\s?[0-9]{3})?\b",
        holder=Holder.PERSON_OR_BUSINESS, weak_in_text=True,
    ),
    # --- EU-wide and international
    IdentifierSpec(
        "EU_VAT", TAX, ("EU",), "EU VAT number", rf"^({_EU_VAT_PREFIX})[0-9A-Z]{{2,13}}$",
        "stdnum.eu.vat", STRONG,
        ("vat", "vat number", "vat id", "vat no", "vat reg no", "nif iva", "numero iva",
         "partita iva", "p iva", "piva", "ust id", "ustid", "ust idnr", "ustidnr",
         "umsatzsteuer id", "umsatzsteuer identifikationsnummer", "btw nummer", "btw",
         "btw id", "numero tva", "tva intracommunautaire", "n tva", "nif intracomunitario",
         "cif intracomunitario", "numer vat", "nip ue", "αφμ ενδοκοινοτικο"),
        ("vat", "iva", "tva", "btw", "ust-id", "ustid", "mwst"),
        rf"\b(?:{_EU_VAT_PREFIX})\s?[0-9A-Z][0-9A-Z .\-]{{1,16}}[0-9A-Z]\b",
        holder=Holder.PERSON_OR_BUSINESS, weak_in_text=True,
    ),
    IdentifierSpec(
        "IBAN", IBAN, ("INT",), "IBAN", r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", "stdnum.iban",
        STRONG,
        ("iban", "iban code", "codigo iban", "numer iban", "κωδικοσ iban", "numero iban",
         "iban nummer", "ibannummer"),
        ("iban",), r"\b[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b",
    ),
    IdentifierSpec(
        "CARD", CARD, ("INT",), "Payment card number (Luhn)", r"^[0-9]{13,19}$", is_card, WEAK,
        (), ("card", "tarjeta", "targeta", "karta", "karty", "κάρτα", "carte", "karte",
             "carta", "cartão", "kaart", "visa", "mastercard"),
        # not the digits inside an IBAN (`AT61 1804 3002 3457 3201`)
        r"(?<![A-Z]{2}[0-9]{2} )(?<![A-Z]{2}[0-9]{2})(?<![0-9]{4} )"
        r"\b[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{4}[ \-]?[0-9]{1,7}\b",
        distinct_text=True,
    ),
    IdentifierSpec(
        "US_SSN", NID, ("US",), "US Social Security number", r"^[0-9]{9}$", "stdnum.us.ssn",
        WEAK, ("ssn", "social security", "social security number", "ss number"),
        ("ssn", "social", "security"), r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b", needs_hint=True,
        distinct_text=True,
    ),
)  # fmt: skip

SPEC_BY_CODE: dict[str, IdentifierSpec] = {s.code: s for s in SPECS}
PERSONAL_SPECS: tuple[IdentifierSpec, ...] = tuple(s for s in SPECS if s.personal)

# Subtypes that are not checksummed identifiers, each with its entity.
OTHER_SUBTYPES: dict[str, Entity] = {
    "ES_NIF": Entity.TAX_ID,  # a DNI/NIE under a tax header (see `tax_form`)
    "IPV4": Entity.IP_ADDRESS,
    "IPV6": Entity.IP_ADDRESS,
    "UUID": Entity.ONLINE_ID,
    "GA_CLIENT_ID": Entity.ONLINE_ID,  # Google Analytics `_ga` / `_gid` cookie values
    "FB_BROWSER_ID": Entity.ONLINE_ID,  # Meta `_fbp`
    "FB_CLICK_ID": Entity.ONLINE_ID,  # Meta `_fbc`
    "GCLID": Entity.ONLINE_ID,  # Google Ads click id / `_gcl_au`
}

# Finer names used in `subtype`; each maps to exactly one entity.
SUBTYPES: dict[str, Entity] = {
    **{s.code: s.entity for s in SPECS if s.entity is not None},
    **OTHER_SUBTYPES,
}

# -- words naming an entity in a column header or announcing it in text ----------------------

# Header words (folded) naming the entity in general; each spec adds its own.
_ENTITY_HEADERS: dict[Entity, tuple[str, ...]] = {
    Entity.NATIONAL_ID: (
        "national id", "national identifier", "nationalid", "national id number",
        "national identity number", "id card", "identity card", "id card number", "id number",
        "id no", "identity number", "identity document", "identification number",
        "personal number", "personal id", "personal code", "personal identity number",
        "citizen id", "social security", "social security number", "ssn",
        "documento identidad", "documento de identidad", "numero de documento",
        "numero documento", "documento", "doc identidad", "identificacion",
        "numero de identificacion", "numero seguridad social",
        "document identitat", "document d identitat", "identificacio", "numero de document",
        "dowod osobisty", "dowod", "numer dowodu", "numer ewidencyjny", "numer ubezpieczenia",
        "ταυτοτητα", "αριθμοσ ταυτοτητασ", "αδτ", "αριθμοσ μητρωου",
        "carte d identite", "numero carte d identite", "numero d identite",
        "numero de securite sociale", "securite sociale",
        "personalausweis", "ausweisnummer", "sozialversicherungsnummer",
        "carta identita", "carta d identita", "numero carta identita", "numero previdenza sociale",
        "cartao cidadao", "numero de identificacao", "numero seguranca social",
        "identiteitsbewijs", "identiteitsnummer", "identiteitskaart",
    ),
    Entity.TAX_ID: (
        "tax id", "taxid", "tin", "tax number", "tax identification number", "tax code",
        "tax reference", "nif", "numero de identificacion fiscal", "identificacion fiscal",
        "numero fiscal", "nip", "numer identyfikacji podatkowej", "afm", "αφμ",
        "αριθμοσ φορολογικου μητρωου", "numero d identification fiscale", "numero fiscal",
        "steuernummer", "steuer id", "codice fiscale", "cod fiscale", "fiscal code",
        "numero contribuinte", "contribuinte", "fiscaal nummer", "fiscaal identificatienummer",
    ),
    Entity.PASSPORT: (
        "passport", "passport number", "passport no", "pasaporte", "numero de pasaporte",
        "passaport", "paszport", "numer paszportu", "διαβατηριο", "αριθμοσ διαβατηριου",
        "passeport", "numero de passeport", "reisepass", "reisepassnummer", "passnummer",
        "passaporto", "numero passaporto", "passaporte", "numero do passaporte", "paspoort",
        "paspoortnummer",
    ),
    Entity.IBAN_CODE: (
        "bank account", "account number", "bank account number", "account no", "bban",
        "cuenta", "cuenta bancaria", "numero de cuenta", "compte", "compte bancari",
        "numero de compte", "konto", "numer konta", "nr konta", "rachunek",
        "λογαριασμοσ", "τραπεζικοσ λογαριασμοσ", "αριθμοσ λογαριασμου", "rib",
        "kontonummer", "bankverbindung", "conto", "numero di conto", "conto corrente",
        "conta", "numero da conta", "conta bancaria", "rekeningnummer", "rekening",
        "bankrekening", "bank", "nib",
    ),
    Entity.CREDIT_CARD: (
        "credit card", "card number", "card", "card no", "pan", "cc number", "ccnum",
        "tarjeta", "numero tarjeta", "tarjeta credito", "targeta", "karta", "numer karty",
        "καρτα", "πιστωτικη καρτα", "carte", "carte bancaire", "kreditkarte",
        "carta di credito", "cartao", "creditcard",
    ),
}  # fmt: skip

# Free-text words (any language, folded) that make a weak identifier of the entity count.
_ENTITY_CONTEXT: dict[Entity, tuple[str, ...]] = {
    Entity.NATIONAL_ID: (
        "national id", "national identity", "national insurance", "identity number",
        "identification number", "id number", "id no", "personal number", "social security",
        "seguridad social", "seguretat social", "securite sociale", "sicurezza sociale",
        "seguranca social", "κοινωνικησ ασφαλισησ", "ασφαλισησ", "identidad", "identitat",
        "identite", "identita", "identiteit", "identificacao", "ταυτοτητα", "ταυτοτητασ",
        "dowod", "ewidencyjny", "ausweis", "personalausweis", "sozialversicherung",
        "documento", "document",
    ),
    Entity.TAX_ID: (
        "tax", "tin", "vat", "fiscal", "fiscale", "fiscaal", "fiscais", "steuer",
        "steuernummer", "podatk", "φορολογ", "nif", "nip", "αφμ", "α.φ.μ", "afm",
        "contribuinte", "cif", "btw-nummer", "btw nummer",
    ),
    Entity.IBAN_CODE: (
        "iban", "cuenta", "compte", "konto", "rachunek", "rachunku", "λογαριασμοσ", "account",
        "conto", "conta", "rekening", "bank", "banco",
    ),
    Entity.CREDIT_CARD: (),
}  # fmt: skip


PASSPORT_CONTEXT: tuple[str, ...] = (
    "passport", "pasaporte", "passaport", "paszport", "paszportu", "διαβατήριο",
    "διαβατηρίου", "passeport", "reisepass", "passaporto", "passaporte", "paspoort",
)  # fmt: skip


def header_words(entity: Entity) -> tuple[str, ...]:
    """Every header word naming `entity`: the general ones, then each spec's own."""
    words = list(_ENTITY_HEADERS.get(entity, ()))
    for spec in PERSONAL_SPECS:
        if spec.entity == entity:
            words += [w for w in spec.headers if w not in words]
    return tuple(words)


def generic_context_words(entity: Entity) -> tuple[str, ...]:
    """The free-text words announcing any identifier of `entity`."""
    return _ENTITY_CONTEXT.get(entity, ())


def context_words(entity: Entity) -> tuple[str, ...]:
    """Every free-text word announcing `entity`: the general ones, then each spec's own."""
    words = list(_ENTITY_CONTEXT.get(entity, ()))
    for spec in PERSONAL_SPECS:
        if spec.entity == entity:
            words += [w for w in spec.context if w not in words]
    return tuple(words)


def specs_named_by(tokens: list[str]) -> tuple[IdentifierSpec, ...]:
    """The specs whose own header words appear in a folded, tokenised header."""
    out = []
    for spec in SPECS:
        for word in spec.headers:
            kw = word.split()
            if any(tokens[i : i + len(kw)] == kw for i in range(len(tokens) - len(kw) + 1)):
                out.append(spec)
                break
    return tuple(out)
