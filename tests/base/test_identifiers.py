"""The identifier registry: one spec per identifier, the ground floor, tables derived once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tutela.base import identifiers as I
from tutela.base.text import compact, fold

BASE = Path(I.__file__).parent

# One valid value per personal identifier (python-stdnum's documentation examples where it
# has them), written as people write them.
EXAMPLES = {
    "ES_DNI": "54362315K", "ES_NIE": "X2482300W", "ES_NSS": "28 12345678 40",
    "ES_CCC": "1234-1234-16 1234567890", "PL_PESEL": "44051401359", "PL_NIP": "PL 8567346215",
    "PL_NRB": "61 1090 1014 0000 0712 1981 2874", "PL_ID_CARD": "ABA300000",
    "GR_AMKA": "01013099997", "GR_AFM": "EL 094259216", "GR_ID_CARD": "ΑΒ 123456",
    "PT_NIF": "PT 501 964 843", "PT_CC": "00000000 0 ZZ4", "IT_CF": "RCCMNL83S18D969H",
    "IT_ID_CARD": "CA00000AA", "FR_NIR": "2 95 10 99 126 111 93", "FR_NIF": "3023217600053",
    "DE_IDNR": "36 574 261 809", "DE_STNR": "181/815/0815 5", "DE_ID_CARD": "L01X00T47",
    "NL_BSN": "111222333", "NL_ONDERWIJSNUMMER": "1012.22.331", "NL_ID_DOCUMENT": "XR1001R58",
    "BE_NN": "85 07 30 033 28", "BE_BIS": "98 47 28 997 65", "BE_EID": "591-1917064-58",
    "AT_VNR": "1237 010180", "AT_TIN": "59-119/9013", "CH_SSN": "756.9217.0769.85",
    "CH_VAT": "CHE-107.787.577 IVA", "LI_PEID": "00001234567", "DK_CPR": "211062-5629",
    "SE_PERSONNUMMER": "880320-0016", "NO_FODSELSNUMMER": "151086 95088",
    "NO_KONTONR": "8601 11 17947", "NO_MVA": "NO 995 525 828 MVA", "FI_HETU": "131052-308T",
    "FI_VERONUMERO": "123456789123", "IS_KENNITALA": "450401-3150", "EE_IK": "36805280109",
    "LT_ASMENS": "33309240064", "LV_PERSONAS_KODS": "161175-19997",
    "CZ_RC": "710319/2745", "CZ_BANKACCOUNT": "34278-0727558021/0100", "HR_OIB": "HR 33392005961",
    "SI_EMSO": "0101006500006", "RO_CNP": "1630615123457", "BG_EGN": "8032056031",
    "BG_PNF": "7111 042 925", "IE_PPS": "1234567T", "UK_NINO": "AB 12 34 56 C",
    "GB_NHS": "943 476 5870", "GB_UTR": "1955839661", "GB_UPN": "B801200005001",
    "GB_VAT": "GB 980 7806 84", "EU_VAT": "ATU13585627", "IBAN": "ES91 2100 0418 4502 0005 1332",
    "CARD": "4111 1111 1111 1111", "US_SSN": "536-90-4399",
}  # fmt: skip


def test_base_imports_nothing_else_of_tutela() -> None:
    for path in BASE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            for name in names:
                assert not name.startswith("tutela.") or name.startswith("tutela.base"), (
                    f"{path.name} imports {name}"
                )


def test_every_personal_spec_has_a_valid_example_shape_and_text_pattern() -> None:
    assert set(EXAMPLES) == {s.code for s in I.PERSONAL_SPECS}
    for code, value in EXAMPLES.items():
        spec = I.SPEC_BY_CODE[code]
        target = value.strip() if spec.on_raw else compact(value)
        assert re.fullmatch(spec.shape, target), code
        assert spec.validate(value), code
        assert spec.text and re.search(spec.text, f"ref {value} ok"), code


@pytest.mark.parametrize("spec", I.SPECS, ids=lambda s: s.code)
def test_header_and_context_words_are_folded(spec: I.IdentifierSpec) -> None:
    assert all(fold(w) == w for w in spec.headers)
    if spec.personal and spec.text_needs_context:
        assert spec.context or spec.headers  # a weak one must have words announcing it


def test_vocabulary_tables_are_derived_once() -> None:
    from tutela.detect import model
    from tutela.detect.freetext import _ID_ENTITY
    from tutela.detect.headers import _KEYWORDS
    from tutela.policy import vocab

    assert vocab.ENTITY_CATEGORY is I.ENTITY_CATEGORY and vocab.Entity is I.Entity
    assert {e.value: c for e, c in I.ENTITY_CATEGORY.items()} == model.CATEGORIES
    assert all(model.SUBTYPES[code] == entity for code, entity in _ID_ENTITY.items())
    for entity in (I.Entity.NATIONAL_ID, I.Entity.TAX_ID, I.Entity.IBAN_CODE):
        assert _KEYWORDS[entity.value] == list(I.header_words(entity))
    assert "rijksregisternummer" in _KEYWORDS["NATIONAL_ID"]
