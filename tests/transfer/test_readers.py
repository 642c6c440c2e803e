"""The streaming readers and the mapping proposals (no database): delimiter and encoding
detection, BOMs, wrong and mixed encodings, ragged rows, XLSX formulas kept as text,
too many columns, the size limit, duplicate headers, header detection, proposals in both
languages."""
from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal

import pytest

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.field_types import FieldValueError
from cardbase.transfer import readers
from cardbase.transfer.cells import FileFormat, localise_number
from cardbase.transfer.mapping import column_names, detect_header, normalise
from transfer_fixture import write_csv, write_xlsx


def rows_of(path, **kw):
    return [cells for _line, cells in readers.open_sheet(str(path), **kw).rows()]


def test_csv_semicolon_and_bom_detected(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Name;Ort\nJürgen Groß;München\nAnn;Köln\n".encode())
    sheet = readers.open_sheet(str(path))
    assert (sheet.delimiter, sheet.encoding) == (";", "utf-8-sig")
    assert rows_of(path) == [["Name", "Ort"], ["Jürgen Groß", "München"], ["Ann", "Köln"]]


def test_csv_utf16_with_bom_and_tabs(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Name\tCity\nÅsa\tMalmö\n".encode("utf-16"))
    assert rows_of(path) == [["Name", "City"], ["Åsa", "Malmö"]]


def test_csv_windows_1252_is_read_as_such(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Name;Stadt\nMüller;Düsseldorf\n".encode("cp1252"))
    sheet = readers.open_sheet(str(path))
    assert sheet.encoding == "cp1252"
    assert rows_of(path)[1] == ["Müller", "Düsseldorf"]


def test_mixed_encodings_are_refused_naming_the_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("Name\nMüller\n".encode("utf-8") + "Bäcker\n".encode("cp1252"))
    with pytest.raises(ValidationError) as exc:
        rows_of(path)
    assert "mixes encodings" in str(exc.value.errors["file"]) and "line 3" in str(exc.value.errors["file"])


def test_mixed_encoding_after_the_sample_is_refused_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "SNIFF_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_bytes(b"Name\n" + b"plain ascii row\n" * 20 + "Bäcker\n".encode("cp1252") + "Müller\n".encode())
    with pytest.raises(ValidationError) as exc:
        rows_of(path)
    assert "line 22" in str(exc.value.errors["file"]) and "encoding" in str(exc.value.errors["file"])


def test_wrong_encoding_chosen_is_an_error_naming_line_and_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Name\nMüller\n".encode("cp1252"))
    with pytest.raises(ValidationError) as exc:
        rows_of(path, encoding="utf-8")
    message = str(exc.value.errors["file"])
    assert "line 2 is not valid utf-8" in message and "0xfc" in message
    with pytest.raises(ValidationError, match="not an encoding"):
        readers.open_sheet(str(path), encoding="klingon")


def test_xlsx_formulas_stay_text_and_sheet_is_chosen(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", [["Name", "Score"], ["=HYPERLINK(\"http://evil\")", "=1+1"]])
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.create_sheet("Second").append(["Other"])
    book.save(path)
    sheet = readers.open_sheet(str(path))
    assert sheet.sheets == ["Sheet1", "Second"]
    assert rows_of(path) == [["Name", "Score"], ['=HYPERLINK("http://evil")', "=1+1"]]
    assert rows_of(path, sheet="Second") == [["Other"]]
    with pytest.raises(ValidationError, match="no sheet 'Third'"):
        readers.open_sheet(str(path), sheet="Third")


def test_ten_thousand_columns_are_refused(tmp_path):
    path = write_csv(tmp_path / "wide.csv", [[f"c{i}" for i in range(10_000)], ["x"] * 10_000])
    with pytest.raises(ValidationError) as exc:
        rows_of(path)
    assert exc.value.errors["file"] == [f"line 1 has 10,000 columns; at most {readers.MAX_COLUMNS} columns can be imported"]


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("CARDBASE_IMPORT_MAX_MB", "1")
    path = tmp_path / "big.csv"
    path.write_bytes(b"a\n" * (600 * 1024))
    with pytest.raises(ValidationError) as exc:
        readers.open_sheet(str(path))
    assert exc.value.errors["file"] == ["is 1.2 MB; the limit is 1 MB"]


def test_upload_stream_stops_at_the_limit(tmp_path):
    import io

    with pytest.raises(ValidationError, match="the limit is 1 MB"):
        readers.copy_stream(io.BytesIO(b"x" * (3 * 1048576)), str(tmp_path), "a.csv", limit=1048576)
    assert list(tmp_path.iterdir()) == []  # nothing half-written is kept


def test_duplicate_headers_get_distinct_names_and_a_warning():
    names, warnings = column_names(["Name", "Phone", "name", "", "Phone"])
    assert names == ["Name", "Phone", "name (2)", "Column 4", "Phone (2)"]
    assert len(warnings) == 2 and "'name' appears 2 times" in warnings[0]


def test_header_detected_below_a_title():
    rows = [["Customer list 2026"], [], ["Name", "City", "Amount"], ["Ann", "Berlin", "12,50"]]
    assert detect_header(rows) == 2
    assert detect_header([["Name", "Amount"], ["Ann", "12"]]) == 0


def test_normalise_folds_case_umlauts_and_punctuation():
    assert normalise("E-Mail-Adresse") == "emailadresse"
    assert normalise(" Größe ") == "groesse"


def test_numbers_in_the_files_locale():
    de, en = FileFormat("de"), FileFormat("en")
    assert localise_number("1.234,50", de) == "1234.50"
    assert localise_number("1.234", de) == "1234"
    assert localise_number("1,234", en) == "1234"
    assert localise_number("12,5", de) == "12.5"
    with pytest.raises(FieldValueError, match="German: 1.234,50"):
        localise_number("1,234.50", de)  # both separators, in the other order
    with pytest.raises(FieldValueError, match="English: 1,234.50"):
        localise_number("1.234,50", en)


def test_region_must_be_known():
    with pytest.raises(ValueError, match="not a region"):
        FileFormat(region="XX")
    assert FileFormat(region="ru").region == "ru"
    assert date(2026, 2, 1) and Decimal("1")  # the imports the module needs are real
