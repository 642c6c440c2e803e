"""Field-type registry: parsing, JSON, import, formatting, options and filter SQL of every
type, without a database."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from cardbase.schema_engine.errors import NotFound, SchemaError
from cardbase.schema_engine.field_types import FieldValueError, all_types, get_type
from cardbase.schema_engine.field_types.autonumber import format_code, validate_pattern
from cardbase.schema_engine.field_types.base import ALL_OPERATORS, OptionContext
from cardbase.schema_engine.field_types.decimal import parse_number_text
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.snapshot import FieldInfo

CHOICES = [{"value": "new", "label": "New", "color": "blue"},
           {"value": "won", "label": "Won deal", "color": "#00AA00"},
           {"value": "lost"}]
OPTIONS = {
    "decimal": {"precision": 10, "scale": 2},
    "money": {"currency": "EUR", "scale": 2, "currency_mode": "per_record"},
    "choice": {"choices": CHOICES},
    "multi_choice": {"choices": CHOICES},
    "link": {"target": 5, "on_delete": "restrict"},
    "links": {"target": 5},
    "autonumber": {"pattern": "INV-{00000}"},
}


def make(type_: str, **options) -> FieldInfo:
    opts = options or OPTIONS.get(type_, {})
    return FieldInfo(id=1, object_id=1, api_name="x", label="X", type=type_, options=opts, column="f1")


class Ctx(OptionContext):
    objects = {"client": 5, "order": 7}

    def object_id(self, name_or_id):
        if isinstance(name_or_id, int) and name_or_id in self.objects.values():
            return name_or_id
        if name_or_id in self.objects:
            return self.objects[name_or_id]
        raise NotFound(f"there is no object '{name_or_id}'")

    def object_name(self, object_id):
        return next(k for k, v in self.objects.items() if v == object_id)


def sql(field: FieldInfo, op: str, operand, dialect) -> str:
    table = sa.Table("obj_1", sa.MetaData(), *[
        sa.Column(name, spec.type) for spec, name in zip(field.column_specs, field.column_names)])
    cols = [table.c[n] for n in field.column_names]
    value = field.ftype.filter_value(field, op, operand)
    clause = field.ftype.filter_clause(field, cols, op, value)
    text = str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return text.replace("%%", "%")  # psycopg's paramstyle doubles literal percent signs


# ---- declarations ----------------------------------------------------------------------

def test_every_type_declares_itself():
    types = all_types()
    for name in ("string", "text", "integer", "decimal", "money", "boolean", "date", "datetime",
                 "choice", "multi_choice", "email", "phone", "url", "link", "user", "autonumber",
                 "record_id", "record_version", "created_at", "modified_at", "created_by", "modified_by"):
        assert name in types
    for name, ftype in types.items():
        assert ftype.name == name and ftype.label, name
        assert ftype.operators and set(ftype.operators) <= set(ALL_OPERATORS), name
        assert ftype.value_type in ("text", "number", "date", "datetime", "boolean", "link", "list"), name


def test_system_types_are_system_only_and_read_only():
    for name in ("record_id", "record_version", "created_at", "modified_at", "created_by", "modified_by"):
        ftype = get_type(name)
        assert ftype.system_only and not ftype.writable
    assert get_type("created_at").indexed and get_type("modified_at").indexed
    assert get_type("created_by").foreign_key(make("created_by"), None) == "cb_user.id"
    assert get_type("created_at").parse(make("created_at"), "2026-11-22T10:00:00+01:00") == datetime(2026, 11, 22, 9)
    assert get_type("record_id").format(make("record_id"), 12345) == "12345"
    assert isinstance(make("record_version").column_specs[0].type, sa.Integer)


def test_unknown_type_lists_known_types():
    with pytest.raises(SchemaError) as exc:
        get_type("nope")
    assert "decimal" in exc.value.message and "record_id" not in exc.value.message


# ---- parsing good values ------------------------------------------------------------------

GOOD = [
    ("text", "line 1\r\nline 2  ", "line 1\nline 2"),
    ("text", 12, "12"),
    ("integer", 12, 12),
    ("integer", "12", 12),
    ("integer", " -7 ", -7),
    ("integer", 12.0, 12),
    ("integer", Decimal("12.00"), 12),
    ("decimal", "12.5", Decimal("12.50")),
    ("decimal", 0.1, Decimal("0.10")),
    ("decimal", 3, Decimal("3.00")),
    ("decimal", "12.345", Decimal("12.35")),
    ("decimal", "-0.001", Decimal("0.00")),
    ("money", "12.5", Money(Decimal("12.50"), "EUR")),
    ("money", 7, Money(Decimal("7.00"), "EUR")),
    ("money", {"amount": "12.50", "currency": "usd"}, Money(Decimal("12.50"), "USD")),
    ("money", {"amount": 3}, Money(Decimal("3.00"), "EUR")),
    ("money", Money(Decimal("1"), "GBP"), Money(Decimal("1.00"), "GBP")),
    ("boolean", True, True),
    ("boolean", "No", False),
    ("boolean", "ja", True),
    ("boolean", 0, False),
    ("boolean", "1", True),
    ("date", "2026-11-22", date(2026, 11, 22)),
    ("date", date(2026, 1, 2), date(2026, 1, 2)),
    ("datetime", "2026-11-22T10:00:00+02:00", datetime(2026, 11, 22, 8, 0)),
    ("datetime", "2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, 0)),
    ("datetime", "2026-11-22T10:00:00", datetime(2026, 11, 22, 10, 0)),
    ("datetime", datetime(2026, 11, 22, 10, tzinfo=timezone(timedelta(hours=-5))), datetime(2026, 11, 22, 15)),
    ("choice", "won", "won"),
    ("choice", "WON DEAL", "won"),
    ("choice", "Lost", "lost"),
    ("multi_choice", ["lost", "new", "lost"], ["new", "lost"]),
    ("multi_choice", "Won deal", ["won"]),
    ("multi_choice", [], None),
    ("email", " Ann.Lee@Example.COM ", "Ann.Lee@example.com"),
    ("email", "mailto:a@b.org", "a@b.org"),
    ("phone", "030 123456", "+4930123456"),
    ("phone", "+1 650 253 0000", "+16502530000"),
    ("phone", "0049 30 1234567", "+49301234567"),
    ("phone", "+49 30 123456 ext. 12", "+4930123456;ext=12"),
    ("url", "example.com/path?q=1", "https://example.com/path?q=1"),
    ("url", "HTTP://example.com", "http://example.com"),
    ("link", 42, 42),
    ("link", "42", 42),
    ("link", {"id": 42}, 42),
    ("link", {"id": 42, "display": "Acme"}, 42),
    ("links", [1, "2", {"id": 3}, {"id": 4, "display": "Acme"}, 2], [1, 2, 3, 4]),
    ("links", 7, [7]),
    ("links", [], None),
    ("user", 3, 3),
    ("autonumber", "INV-00042", "INV-00042"),
    ("record_id", "5", 5),
]


@pytest.mark.parametrize("type_,raw,expected", GOOD)
def test_good_values_parse(type_, raw, expected):
    field = make(type_)
    assert field.ftype.parse(field, raw) == expected


@pytest.mark.parametrize("type_", sorted(all_types()))
def test_empty_is_none(type_):
    field = make(type_)
    assert field.ftype.parse(field, None) is None
    assert field.ftype.parse(field, "") is None
    assert field.ftype.import_value(field, "  ") is None
    assert field.ftype.to_json(field, None) is None
    assert field.ftype.format(field, None, "de") == ""


# ---- rejecting bad values ----------------------------------------------------------------

BAD = [
    ("text", ["a"], "must be a text"),
    ("text", {"a": 1}, "must be a text"),
    ("text", "a\x00b", "control characters"),
    ("integer", "12.5", "not a whole number (it has a fraction)"),
    ("integer", 12.5, "has a fraction"),
    ("integer", "abc", "'abc' is not a whole number"),
    ("integer", True, "true is not a whole number"),
    ("integer", [1], "not a whole number"),
    ("integer", 2**63, "too large"),
    ("integer", "1,234", "not a whole number"),
    ("decimal", "abc", "'abc' is not a number"),
    ("decimal", "NaN", "finite"),
    ("decimal", float("inf"), "finite"),
    ("decimal", "12,50", "not a number"),
    ("decimal", False, "false is not a number"),
    ("decimal", "123456789.5", "at most 8 are allowed"),
    ("decimal", {"amount": 1}, "must be a number"),
    ("money", "ten", "not a number"),
    ("money", {"amount": "1", "currency": "XXY"}, "'XXY' is not an ISO 4217 currency code"),
    ("money", {"amount": "1", "cur": "EUR"}, "unknown key(s) cur"),
    ("money", True, "must be an amount"),
    ("money", [1, 2], "must be an amount"),
    ("boolean", "maybe", "'maybe' is not yes or no"),
    ("boolean", 2, "not yes or no"),
    ("boolean", [True], "not yes or no"),
    ("date", "22.11.2026", "expected YYYY-MM-DD"),
    ("date", "2026-02-30", "'2026-02-30' is not a valid date"),
    ("date", "11/22/2026", "is not a date"),
    ("date", 20261122, "must be a date"),
    ("datetime", "yesterday", "is not a date and time"),
    ("datetime", "2026-13-01T00:00:00", "is not a valid date and time"),
    ("datetime", 5, "must be a date and time"),
    ("choice", "maybe", "'maybe' is not one of the choices: new, won, lost"),
    ("choice", ["new"], "must be one of the choices"),
    ("multi_choice", ["new", "maybe"], "'maybe' is not one of the choices"),
    ("multi_choice", 5, "'5' is not one of the choices"),
    ("multi_choice", {"a": 1}, "must be a list of choices"),
    ("email", "ann@", "'ann@' is not a valid e-mail address"),
    ("email", "not an email", "not a valid e-mail address"),
    ("email", 42, "must be an e-mail address"),
    ("phone", "xyz", "'xyz' is not a valid phone number (expected e.g. +49 30 1234567)"),
    ("phone", "12", "is not a valid phone number"),
    ("phone", ["030"], "must be a phone number"),
    ("url", "javascript:alert(1)", "only http and https"),
    ("url", "ftp://example.com", "only http and https"),
    ("url", "not a url", "contains spaces"),
    ("url", "https://", "not a valid web address"),
    ("url", 5, "must be a web address"),
    ("link", "abc", "must be the id of a linked record"),
    ("link", -1, "must be the id of a linked record"),
    ("link", True, "must be the id"),
    ("link", {"name": "x"}, "must be the id"),
    ("links", ["x"], "must be the id of a linked record"),
    ("links", {"name": "x"}, "must be the id"),
    ("links", 1.5, "must be a list of record ids"),
    ("user", "bob", "must be the id of a user"),
    ("autonumber", ["x"], "must be a code text"),
    ("created_by", 1.5, "must be the id of a user"),
    ("formula", "12", "is calculated by the system"),
    ("lookup", "Berlin", "is calculated by the system"),
    ("rollup", 3, "is calculated by the system"),
]


@pytest.mark.parametrize("type_,raw,message", BAD)
def test_bad_values_are_refused_clearly(type_, raw, message):
    field = make(type_)
    with pytest.raises(FieldValueError) as exc:
        field.ftype.parse(field, raw)
    text = str(exc.value)
    assert message in text
    assert not text.startswith(("{", "[")) and "ValidationError" not in text


def test_bad_values_cover_every_user_type():
    covered = {t for t, _, _ in BAD}
    user_types = {n for n, t in all_types().items() if not t.system_only and n != "string"}
    assert user_types <= covered


# ---- JSON ------------------------------------------------------------------------------

JSON_CASES = [
    ("text", "two\nlines", "two\nlines"),
    ("integer", 12, 12),
    ("decimal", Decimal("12.50"), "12.50"),
    ("money", Money(Decimal("1234.50"), "USD"), {"amount": "1234.50", "currency": "USD"}),
    ("boolean", False, False),
    ("date", date(2026, 11, 22), "2026-11-22"),
    ("datetime", datetime(2026, 11, 22, 14, 30), "2026-11-22T14:30:00Z"),
    ("datetime", datetime(2026, 11, 22, 14, 30, 0, 5000), "2026-11-22T14:30:00.005000Z"),
    ("choice", "won", "won"),
    ("multi_choice", ["new", "lost"], ["new", "lost"]),
    ("email", "a@b.org", "a@b.org"),
    ("phone", "+4930123456", "+4930123456"),
    ("url", "https://example.com", "https://example.com"),
    ("link", 42, 42),
    ("user", 3, 3),
    ("autonumber", "INV-00001", "INV-00001"),
    ("record_id", 9, 9),
    ("created_at", datetime(2026, 1, 1), "2026-01-01T00:00:00Z"),
]


@pytest.mark.parametrize("type_,value,expected", JSON_CASES)
def test_json_round_trip(type_, value, expected):
    field = make(type_)
    data = field.ftype.to_json(field, value)
    assert data == expected
    assert field.ftype.parse(field, json.loads(json.dumps(data))) == value


def test_marshmallow_fields_serialise_like_to_json():
    for type_, value, expected in JSON_CASES:
        field = make(type_)
        if type_ in ("decimal", "money", "integer", "text", "choice", "email", "link"):
            assert field.ma_field.serialize("v", {"v": value}) == expected, type_


# ---- database form ----------------------------------------------------------------------

def test_money_has_two_columns():
    field = make("money")
    assert field.column_names == ("f1", "f1_currency")
    assert isinstance(field.column_specs[0].type, sa.Numeric) and field.column_specs[0].type.scale == 2
    assert field.column_specs[1].type.length == 3
    value = Money(Decimal("12.50"), "USD")
    assert field.ftype.to_db(field, value) == (Decimal("12.50"), "USD")
    assert field.ftype.from_db(field, (Decimal("12.5"), "USD")) == value
    assert field.ftype.from_db(field, (None, None)) is None
    assert field.ftype.from_db(field, ("3", None)) == Money(Decimal("3.00"), "EUR")


def test_multi_choice_storage():
    field = make("multi_choice")
    assert field.ftype.to_db(field, ["new", "lost"]) == ("|new|lost|",)
    assert field.ftype.to_db(field, None) == (None,)
    assert field.ftype.from_db(field, ("|new|lost|",)) == ["new", "lost"]
    assert field.ftype.from_db(field, (None,)) is None
    assert field.ftype.from_db(field, ("",)) is None


def test_column_types():
    assert isinstance(make("integer").column_specs[0].type, sa.BigInteger)
    dec = make("decimal", precision=12, scale=3).column_specs[0].type
    assert (dec.precision, dec.scale) == (12, 3)
    assert isinstance(make("text").column_specs[0].type, sa.Text)
    assert make("choice").column_specs[0].indexed and make("date").column_specs[0].indexed
    assert make("integer").column_specs[0].indexed and make("decimal").column_specs[0].indexed
    assert make("money").column_specs[0].indexed and not make("money").column_specs[1].indexed
    assert not make("text").column_specs[0].indexed
    assert make("email").column_specs[0].type.length == 254
    assert make("autonumber").column_specs[0].type.length == 64


def test_foreign_keys():
    assert get_type("link").foreign_key(make("link"), None) == "obj_5.id"
    assert get_type("user").foreign_key(make("user"), None) == "cb_user.id"
    assert get_type("integer").foreign_key(make("integer"), None) is None
    assert make("link").column_specs[0].indexed
    assert not get_type("link").supports_default
    assert get_type("user").dynamic_defaults == ("me",)  # a user field's default: the user who creates (issue 14.5)


def test_date_and_datetime_from_db_strings():
    assert get_type("date").from_db(make("date"), ("2026-11-22",)) == date(2026, 11, 22)
    assert get_type("datetime").from_db(make("datetime"), ("2026-11-22 10:00:00",)) == datetime(2026, 11, 22, 10)
    assert get_type("decimal").from_db(make("decimal"), (Decimal("1.5"),)) == Decimal("1.50")


# ---- import -----------------------------------------------------------------------------

IMPORTS = [
    ("integer", "1 234", 1234),
    ("integer", "1,234,567", 1234567),
    ("integer", "1.234", 1234),
    ("integer", "12", 12),
    ("integer", "12,0", 12),
    ("integer", 7.0, 7),
    ("decimal", "12,50", Decimal("12.50")),
    ("decimal", "1.234,50", Decimal("1234.50")),
    ("decimal", "1,234.50", Decimal("1234.50")),
    ("decimal", "1 234,5", Decimal("1234.50")),
    ("decimal", "-0,5", Decimal("-0.50")),
    ("decimal", "1.5", Decimal("1.50")),
    ("money", "1.234,50 €", Money(Decimal("1234.50"), "EUR")),
    ("money", "USD 12.50", Money(Decimal("12.50"), "USD")),
    ("money", "12,5", Money(Decimal("12.50"), "EUR")),
    ("money", "-£3", Money(Decimal("-3.00"), "GBP")),
    ("boolean", "JA", True),
    ("boolean", "nein", False),
    ("date", "22.11.2026", date(2026, 11, 22)),
    ("date", "1.2.2026", date(2026, 2, 1)),
    ("date", "2026-11-22", date(2026, 11, 22)),
    ("date", "2026-11-22 00:00:00", date(2026, 11, 22)),
    ("date", datetime(2026, 11, 22, 0, 0), date(2026, 11, 22)),
    ("datetime", "22.11.2026 14:30", datetime(2026, 11, 22, 14, 30)),
    ("datetime", "2026-11-22 14:30", datetime(2026, 11, 22, 14, 30)),
    ("choice", " won deal ", "won"),
    ("multi_choice", "new, lost", ["new", "lost"]),
    ("multi_choice", "Lost; New", ["new", "lost"]),
    ("email", "Ann Lee <ann@Example.org>", "ann@example.org"),
    ("phone", "(030) 12 34 56", "+4930123456"),
    ("link", " 42 ", 42),
    ("autonumber", " INV-1 ", "INV-1"),
]


@pytest.mark.parametrize("type_,text,expected", IMPORTS)
def test_import_values(type_, text, expected):
    field = make(type_)
    assert field.ftype.import_value(field, text) == expected


@pytest.mark.parametrize("type_,text,message", [
    ("integer", "12,5", "not a whole number"),
    ("integer", "abc", "not a whole number"),
    ("decimal", "1,234", "ambiguous"),
    ("decimal", "1.2.3,4.5", "not a number"),
    ("money", "12 EUR USD", "not an amount"),
    ("money", "12 XYZ", "not an ISO 4217 currency code"),
    ("date", "11/22/2026", "expected 2026-11-22 or 22.11.2026"),
    ("date", "31.02.2026", "not a valid date"),
    ("boolean", "vielleicht", "not yes or no"),
    ("multi_choice", "new, maybe", "'maybe' is not one of the choices"),
])
def test_import_errors(type_, text, message):
    field = make(type_)
    with pytest.raises(FieldValueError, match=message):
        field.ftype.import_value(field, text)


def test_parse_number_text():
    assert parse_number_text("1'234.50") == Decimal("1234.50")
    assert parse_number_text("1.234.567") == Decimal("1234567")
    assert parse_number_text("0,125") == Decimal("0.125")
    assert parse_number_text("1e3") == Decimal("1000")
    with pytest.raises(FieldValueError):
        parse_number_text("12,345,67")


def test_datetime_import_uses_display_timezone(monkeypatch):
    monkeypatch.setenv("CARDBASE_TIMEZONE", "Europe/Berlin")
    field = make("datetime")
    value = field.ftype.import_value(field, "22.11.2026 14:30")
    assert value == datetime(2026, 11, 22, 13, 30)
    assert field.ftype.format(field, value, "de") == "22.11.2026 14:30"
    assert field.ftype.import_value(field, "2026-11-22T14:30:00Z") == datetime(2026, 11, 22, 14, 30)
    # API input without an offset is UTC whatever the display zone
    assert field.ftype.parse(field, "2026-11-22T14:30:00") == datetime(2026, 11, 22, 14, 30)


# ---- formatting ------------------------------------------------------------------------

FORMATS = [
    ("text", "a\nb", "a\nb", "a\nb"),
    ("integer", 1234567, "1,234,567", "1.234.567"),
    ("decimal", Decimal("1234.50"), "1,234.50", "1.234,50"),
    ("decimal", Decimal("-0.50"), "-0.50", "-0,50"),
    ("money", Money(Decimal("1234.50"), "EUR"), "1,234.50 EUR", "1.234,50 EUR"),
    ("boolean", True, "Yes", "Ja"),
    ("boolean", False, "No", "Nein"),
    ("date", date(2026, 11, 22), "2026-11-22", "22.11.2026"),
    ("datetime", datetime(2026, 11, 22, 14, 5), "2026-11-22 14:05", "22.11.2026 14:05"),
    ("choice", "won", "Won deal", "Won deal"),
    ("choice", "gone", "gone", "gone"),
    ("multi_choice", ["new", "lost"], "New, lost", "New, lost"),
    ("email", "a@b.org", "a@b.org", "a@b.org"),
    ("phone", "+4930123456", "+49 30 123456", "+49 30 123456"),
    ("url", "https://example.com", "https://example.com", "https://example.com"),
    ("link", 42, "42", "42"),
    ("autonumber", "INV-00001", "INV-00001", "INV-00001"),
]


@pytest.mark.parametrize("type_,value,en,de", FORMATS)
def test_format(type_, value, en, de, monkeypatch):
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    field = make(type_)
    assert field.ftype.format(field, value, "en") == en
    assert field.ftype.format(field, value, "de") == de


def test_search_text():
    assert get_type("choice").search_text(make("choice"), "won") == "Won deal"
    assert get_type("multi_choice").search_text(make("multi_choice"), ["new", "won"]) == "New Won deal"
    assert get_type("phone").search_text(make("phone"), "+4930123456") == "+4930123456 030123456 +49 30 123456 030 123456"
    for name in ("text", "choice", "multi_choice", "email", "phone", "url", "autonumber", "string"):
        assert get_type(name).searchable, name


# ---- options ---------------------------------------------------------------------------

def test_clean_options_defaults_and_normalisation():
    ctx = Ctx()
    assert get_type("decimal").clean_options({}, ctx) == {"precision": 18, "scale": 2}
    assert get_type("money").clean_options({"currency": "usd"}, ctx) == {
        "currency": "USD", "currency_mode": "fixed", "scale": 2}
    assert get_type("link").clean_options({"target": "client"}, ctx) == {"target": 5, "on_delete": "restrict"}
    assert get_type("link").clean_options({"target": 7, "on_delete": "set_empty"}, ctx) == {
        "target": 7, "on_delete": "set_null"}
    assert get_type("link").export_options({"target": 7, "on_delete": "cascade"}, ctx) == {
        "target": "order", "on_delete": "cascade"}
    assert get_type("phone").clean_options({"region": "at"}, ctx) == {"region": "AT"}
    assert get_type("autonumber").clean_options({}, ctx) == {"pattern": "{00000}"}
    cleaned = get_type("choice").clean_options({"choices": ["a", {"value": "b", "label": "Bee", "color": "#AABBCC"}]}, ctx)
    assert cleaned == {"choices": [{"value": "a", "label": "a"}, {"value": "b", "label": "Bee", "color": "#aabbcc"}]}


OPTION_ERRORS = [
    ("decimal", {"precision": 0}, "options.precision"),
    ("decimal", {"precision": 39}, "options.precision"),
    ("decimal", {"precision": 5, "scale": 6}, "options.scale"),
    ("decimal", {"scale": "2"}, "options.scale"),
    ("decimal", {"digits": 2}, "options.digits"),
    ("money", {"currency": "EURO"}, "options.currency"),
    ("money", {"currency": "ABC"}, "options.currency"),
    ("money", {"scale": 9}, "options.scale"),
    ("choice", {}, "options.choices"),
    ("choice", {"choices": []}, "options.choices"),
    ("choice", {"choices": ["a", "A"]}, "options.choices[1].value"),
    ("choice", {"choices": ["a|b"]}, "options.choices[0].value"),
    ("choice", {"choices": ["x" * 101]}, "options.choices[0].value"),
    ("choice", {"choices": [{"value": ""}]}, "options.choices[0].value"),
    ("choice", {"choices": [{"value": "a", "color": "mauve"}]}, "options.choices[0].color"),
    ("choice", {"choices": [{"value": "a", "label": "X"}, {"value": "b", "label": "x"}]}, "options.choices[1].label"),
    ("choice", {"choices": [{"value": "a", "icon": "x"}]}, "options.choices[0]"),
    ("multi_choice", {"choices": "a,b"}, "options.choices"),
    ("phone", {"region": "XX"}, "options.region"),
    ("link", {}, "options.target"),
    ("link", {"target": "nobody"}, "options.target"),
    ("link", {"target": "client", "on_delete": "explode"}, "options.on_delete"),
    ("autonumber", {"pattern": "INV"}, "options.pattern"),
    ("autonumber", {"pattern": "{000}-{000}"}, "options.pattern"),
    ("autonumber", {"pattern": "{0000000000000}"}, "options.pattern"),
    ("autonumber", {"pattern": "{DD}-{000}"}, "options.pattern"),
    ("autonumber", {"pattern": "A{000"}, "options.pattern"),
    ("autonumber", {"pattern": "A" * 60 + "{0}"}, "options.pattern"),
    ("string", {"length": 0}, "options.length"),
    ("text", {"length": 5}, "options.length"),
    ("integer", {"precision": 5}, "options.precision"),
]


@pytest.mark.parametrize("type_,options,key", OPTION_ERRORS)
def test_option_errors_name_the_option(type_, options, key):
    with pytest.raises(SchemaError) as exc:
        get_type(type_).clean_options(options, Ctx())
    assert key in exc.value.errors, exc.value.errors


def test_option_error_messages():
    with pytest.raises(SchemaError) as exc:
        get_type("link").clean_options({"target": "nobody"}, Ctx())
    assert exc.value.errors["options.target"] == ["there is no object 'nobody'"]
    with pytest.raises(SchemaError) as exc:
        get_type("link").clean_options({"target": "client", "on_delete": "explode"}, Ctx())
    assert "restrict, cascade, set_null" in exc.value.message


# ---- autonumber -------------------------------------------------------------------------

def test_format_code():
    today = date(2026, 3, 9)
    assert format_code("INV-{YYYY}-{0000}", 42, today) == "INV-2026-0042"
    assert format_code("{YY}{MM}/{00}", 7, today) == "2603/07"
    assert format_code("{000}", 12345, today) == "12345"
    assert format_code("C{0}", 3) == "C3"
    with pytest.raises(ValueError):
        format_code("{000}", -1)


def test_validate_pattern_uses_the_callers_key():
    assert validate_pattern(" A-{000} ") == "A-{000}"
    with pytest.raises(SchemaError) as exc:
        validate_pattern("no counter", key="code_pattern")
    assert list(exc.value.errors) == ["code_pattern"]


# ---- conversion ------------------------------------------------------------------------

def convert(target: str, source: str, value, **options):
    field, src = make(target, **options), make(source)
    return field.ftype.convert_from(field, src, value)


def test_conversions():
    assert convert("integer", "string", "12") == 12
    assert convert("integer", "text", "1.234") == 1234
    assert convert("integer", "decimal", Decimal("12.00")) == 12
    assert convert("integer", "money", Money(Decimal("5.00"), "EUR")) == 5
    assert convert("integer", "boolean", True) == 1
    assert convert("decimal", "integer", 12) == Decimal("12.00")
    assert convert("decimal", "money", Money(Decimal("5.25"), "USD")) == Decimal("5.25")
    assert convert("decimal", "string", "12,5") == Decimal("12.50")
    assert convert("money", "decimal", Decimal("5.25")) == Money(Decimal("5.25"), "EUR")
    assert convert("text", "money", Money(Decimal("1234.5"), "EUR")) == "1,234.50 EUR"
    assert convert("text", "boolean", True) == "Yes"
    assert convert("text", "choice", "won") == "Won deal"
    assert convert("choice", "string", "won deal") == "won"
    assert convert("choice", "multi_choice", ["lost"]) == "lost"
    assert convert("multi_choice", "choice", "lost") == ["lost"]
    assert convert("multi_choice", "string", "new; won") == ["new", "won"]
    assert convert("date", "datetime", datetime(2026, 11, 22, 23, 0)) == date(2026, 11, 22)
    assert convert("date", "string", "22.11.2026") == date(2026, 11, 22)
    assert convert("datetime", "date", date(2026, 11, 22)) == datetime(2026, 11, 22)
    assert convert("boolean", "string", "yes") is True
    assert convert("boolean", "integer", 0) is False
    assert convert("email", "string", "a@B.org") == "a@b.org"
    assert convert("link", "integer", 42) == 42


@pytest.mark.parametrize("target,source,value,message", [
    ("integer", "decimal", Decimal("12.5"), "has a fraction"),
    ("integer", "string", "twelve", "not a whole number"),
    ("decimal", "decimal", Decimal("1.2345"), "would be rounded"),
    ("choice", "string", "maybe", "not one of the choices"),
    ("choice", "multi_choice", ["new", "won"], "only one can be kept"),
    ("boolean", "integer", 5, "not yes or no"),
    ("date", "string", "someday", "not a date"),
    ("integer", "date", date(2026, 1, 1), "not a whole number"),
])
def test_conversions_refused(target, source, value, message):
    with pytest.raises(FieldValueError, match=message):
        convert(target, source, value)


# ---- filters -------------------------------------------------------------------------------

DIALECTS = [sqlite.dialect(), postgresql.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_filter_clauses_compile(dialect):
    assert "f1 > 12.50" in sql(make("decimal"), "gt", "12.5", dialect)
    assert "BETWEEN 1 AND 5" in sql(make("integer"), "between", ["1", 5], dialect)
    money = sql(make("money"), "ge", {"amount": "10", "currency": "USD"}, dialect)
    assert "f1 >= 10.00" in money and "coalesce(obj_1.f1_currency, 'EUR') = 'USD'" in money  # per record: same currency
    fixed = sql(make("money", currency="EUR", currency_mode="fixed"), "ge", "10", dialect)
    assert "f1 >= 10.00" in fixed and "currency" not in fixed  # one fixed currency: the amount alone
    assert "f1 IS NULL" in sql(make("money"), "is_empty", None, dialect)
    assert "IN ('new', 'won')" in sql(make("choice"), "in", ["New", "won deal"], dialect)
    assert "'2026-11-22'" in sql(make("date"), "lt", "2026-11-22", dialect)
    assert "lower(obj_1.f1) = 'ann@example.org'" in sql(make("email"), "eq", "Ann@EXAMPLE.org", dialect)
    assert "'+4930123456'" in sql(make("phone"), "eq", "030 123456", dialect)
    phone = sql(make("phone"), "contains", "030 12", dialect)
    assert "LIKE" in phone.upper() and "+493012" in phone
    assert "obj_1.f1 = 42" in sql(make("link"), "eq", {"id": 42}, dialect)


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_multi_choice_filters(dialect):
    field = make("multi_choice")
    contains = sql(field, "contains", ["won", "new"], dialect)
    assert contains.count("LIKE") == 2 and "'%|new|%'" in contains and "'%|won|%'" in contains and " AND " in contains
    not_contains = sql(field, "not_contains", "lost", dialect)
    assert "NOT LIKE '%|lost|%'" in not_contains and "IS NULL" in not_contains
    assert "obj_1.f1 = '|new|won|'" in sql(field, "eq", ["won", "new"], dialect)
    empty = sql(field, "is_empty", None, dialect)
    assert "IS NULL" in empty and "= ''" in empty
    with pytest.raises(FieldValueError):
        field.ftype.filter_value(field, "contains", [])
    with pytest.raises(FieldValueError):
        field.ftype.filter_value(field, "lt", "new")


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_boolean_false_includes_unset(dialect):
    field = make("boolean")
    text = sql(field, "eq", "no", dialect)
    assert "IS NULL" in text and " OR " in text
    assert "IS NULL" not in sql(field, "eq", True, dialect)
    assert "IS NULL" in sql(field, "ne", "yes", dialect)


def test_filter_operand_errors():
    field = make("decimal")
    with pytest.raises(FieldValueError, match="not a number"):
        field.ftype.filter_value(field, "gt", "lots")
    with pytest.raises(FieldValueError, match="two values"):
        field.ftype.filter_value(field, "between", [1])
    phone = make("phone")
    with pytest.raises(FieldValueError, match="digits"):
        phone.ftype.filter_value(phone, "contains", "abc")


def test_phone_region_from_environment(monkeypatch):
    monkeypatch.setenv("CARDBASE_PHONE_REGION", "US")
    field = make("phone")
    assert field.ftype.parse(field, "(650) 253-0000") == "+16502530000"
    de = make("phone", region="DE")
    assert de.ftype.parse(de, "030 123456") == "+4930123456"


def test_choice_sorts_in_list_order():
    field = make("choice")
    col = sa.column("f1", sa.String)
    text = str(field.ftype.sort_expression(field, [col]).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert "CASE" in text and "WHEN 'won' THEN 1" in text and "ELSE 3" in text
