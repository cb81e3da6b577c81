"""Regenerates the small ingest fixtures in this folder (synthetic people only)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
from openpyxl import Workbook

HERE = Path(__file__).parent

PEOPLE = [
    ("C001", "Núria Puig i Soler", "nuria.puig@example.com", "08001", "1989-06-26"),
    ("C002", "Paweł Żółkiewski", "pawel.z@example.pl", "00-950", "1975-01-31"),
    ("C003", "Γιώργος Ρίζος", "g.rizos@example.gr", "10558", "1992-11-03"),
    ("C004", "Łucja Wiśniewska", "lucja@example.pl", "30-001", "2001-02-14"),
]


def write(name: str, text: str, encoding: str) -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def main() -> None:
    header = "id,full_name,email,postcode,birth_date\n"
    rows = "".join(",".join(p) + "\n" for p in PEOPLE)
    write("utf8.csv", header + rows, "utf-8")
    write("utf8_bom_semicolon.csv", (header + rows).replace(",", ";"), "utf-8-sig")
    write("utf16.csv", header + rows, "utf-16")
    polish = "imie;nazwisko;miasto\nPaweł;Żółkiewski;Łódź\nŁucja;Wiśniewska;Gdańsk\nŚwięcki;Jóźwiak;Kraków\n"
    write("cp1250_pl.csv", polish, "cp1250")
    greek = "όνομα\tεπώνυμο\tπόλη\nΓιώργος\tΡίζος\tΑθήνα\nΆννα\tΠαπαδοπούλου\tΘεσσαλονίκη\n"
    write("cp1253_gr.tsv", greek, "cp1253")
    write("iso8859_7_gr.csv", greek.replace("\t", ","), "iso8859_7")
    spanish = (
        "nombre,ciudad,nota\nJosé Peña,Logroño,cliente habitual\nMaría Çelebi,Lleida,l·lustre\n"
    )
    write("cp1252_es.csv", spanish, "cp1252")

    records = [
        {"id": p[0], "customer": {"name": p[1], "contact": {"email": p[2]}}, "tags": ["a", "b"]}
        for p in PEOPLE
    ]
    (HERE / "array.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (HERE / "lines.ndjson").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES (1, 'Núria', {'city': 'Vic', 'zip': '08500'}), "
        "(2, 'Γιώργος', {'city': 'Αθήνα', 'zip': '10558'})) t(id, name, address)) "
        f"TO '{HERE / 'nested.parquet'}' (FORMAT parquet)"
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "orders"
    ws.append(["order_id", "customer_id", "order_date", "amount"])
    ws.append(["ORD-1", "C001", date(2024, 1, 5), 12.5])
    ws.append(["ORD-2", "C003", datetime(2024, 2, 6, 10, 30), 99.0])
    returns = wb.create_sheet("returns")
    returns.append(["return_id", "order_id", "reason"])
    returns.append(["R-1", "ORD-2", "talla incorrecta"])
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    wb.save(HERE / "book.xlsx")

    # bad inputs
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "junk.csv").write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    (HERE / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n6,7\n", encoding="utf-8")
    (HERE / "bad_utf8.csv").write_bytes("name,city\nNúria,Vic\n".encode() + b"Joan,Reus\xff\n")
    (HERE / "duplicate_columns.csv").write_text(
        "id,Email,email\n1,a@x.com,b@x.com\n", encoding="utf-8"
    )
    (HERE / "empty_column_name.csv").write_text("id,,email\n1,x,a@x.com\n", encoding="utf-8")
    (HERE / "header_only.csv").write_text("id,email\n", encoding="utf-8")
    (HERE / 'we"ird;name.csv').write_text(
        '"a""b";"drop table x;--";"SELECT * FROM t"\n1;2;3\n', encoding="utf-8"
    )
    (HERE / "not_parquet.parquet").write_text("id,name\n1,x\n", encoding="utf-8")
    (HERE / "broken.json").write_text('[{"a": 1}, {"a": ', encoding="utf-8")
    (HERE / "not_excel.xlsx").write_text("id,name\n1,x\n", encoding="utf-8")


if __name__ == "__main__":
    main()
