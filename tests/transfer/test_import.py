"""Spreadsheet import through the change pipeline, on SQLite and PostgreSQL: mapping
proposals in both languages, per-type parsing in the file's locale, links by code or
display value, modes, all-or-nothing versus good rows plus a bad-rows XLSX, duplicate
groups with a decision per group, and saved mappings."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from cardbase.schema_engine.errors import Forbidden, ValidationError
from cardbase.schema_engine.meta_models import ActionRow, HistoryEntry
from cardbase.transfer import readers
from cardbase.transfer.importer import Importer, ImportFailed, ImportSettings
from cardbase.transfer.mapping import best_saved, propose, save_mapping, saved_mappings
from transfer_fixture import world, write_csv, write_xlsx


@pytest.fixture
def crm(db):
    svc, store, who = world(db)
    with store.session(who, write=True) as s:
        acme = s.create("organisation", {"name": "ACME", "city": "Berlin"})
        s.create("organisation", {"name": "Twin", "city": "Bonn"})
        s.create("organisation", {"name": "Twin", "city": "Köln"})
    return db, store, who, acme


def people(store, who):
    with store.session(who) as s:
        return {r["name"]: r for r in s.list("person").data}


def run(store, who, path, dry_run=False, bad=None, **settings):
    sheet = readers.open_sheet(str(path))
    return Importer(store, who, "person", sheet, ImportSettings.from_json(settings), bad_rows_path=bad).run(
        dry_run=dry_run)


GERMAN = [["Kundenliste"], [],
          ["Name", "E-Mail-Adresse", "Telefon", "Ort", "Geburtstag", "Stage", "Score", "Budget", "Firma"],
          ["Jürgen Groß", "Juergen <J.Gross@Example.org>", "8 495 123-45-67", "Moskau", "22.11.1980", "Client",
           "1.234,50", "1.000,00 €", "ACME"],
          ["Ann Lee", "ann@example.org", "+49 30 1234567", "Berlin", "01.02.1990", "lead", "12,5", "", "ORG-00003"]]


def test_german_csv_mapped_parsed_and_written_through_the_pipeline(crm, tmp_path):
    db, store, who, acme = crm
    path = write_csv(tmp_path / "kunden.csv", GERMAN, delimiter=";", encoding="cp1252")
    sheet = readers.open_sheet(str(path))
    imp = Importer(store, who, "person", sheet, ImportSettings({}))
    line, columns, warnings = imp.layout()
    assert (line, warnings) == (3, [])
    with store.session(who) as s:
        proposal = propose(s.object("person"), columns)
    assert proposal == {"Name": "name", "E-Mail-Adresse": "email", "Telefon": "phone", "Ort": "city",
                        "Geburtstag": "birthday", "Stage": "stage", "Score": "score", "Budget": "budget",
                        "Firma": "organisation"}
    result = run(store, who, path, mapping=proposal, locale="de", region="RU")
    assert (result.created, result.failed, result.errors) == (2, 0, [])
    got = people(store, who)
    jg = got["Jürgen Groß"]
    assert jg["email"] == "J.Gross@Example.org" or jg["email"].lower() == "j.gross@example.org"
    assert jg["phone"] == "+74951234567"  # "8 495 ..." read in the chosen region, stored in E.164
    assert str(jg["birthday"]) == "1980-11-22" and jg["stage"] == "client" and jg["score"] == Decimal("1234.50")
    assert jg["budget"].amount == Decimal("1000.00") and jg["organisation"].id == acme["id"]
    assert got["Ann Lee"]["phone"] == "+49301234567" and got["Ann Lee"]["organisation"].display == "Twin"
    with db.read() as conn:
        action = conn.execute(sa.select(ActionRow.__table__).order_by(ActionRow.id.desc())).mappings().first()
        assert (action["kind"], action["record_count"]) == ("import", 2)
        assert conn.execute(sa.select(sa.func.count()).select_from(HistoryEntry)
                            .where(HistoryEntry.batch == action["batch"])).scalar() == 2


def test_dry_run_shows_every_cells_error_and_writes_nothing(crm, tmp_path):
    _db, store, who, _acme = crm
    path = write_csv(tmp_path / "bad.csv", [
        ["Name", "Birthday", "Score", "Organisation", "Stage"],
        ["Ok", "2026-02-28", "1", "ACME", "lead"],
        ["Bad date", "31.02.2026", "1,234.50", "Twin", "boss"],
        ["Missing", "", "", "Nobody Ltd", ""]])
    mapping = {"Name": "name", "Birthday": "birthday", "Score": "score", "Organisation": "organisation",
               "Stage": "stage"}
    result = run(store, who, path, dry_run=True, mapping=mapping, locale="de")
    assert people(store, who) == {}
    assert (result.created, result.failed) == (1, 2)
    bad = {(c["field"]): c["error"] for c in result.preview[1]["cells"] if c["error"]}
    assert "not a valid date" in bad["birthday"]
    assert "German: 1.234,50" in bad["score"]
    assert "ambiguous: 2 'Organisation' records" in bad["organisation"] and "ORG-00002" in bad["organisation"]
    assert "stage" in bad
    missing = result.preview[2]["errors"]["organisation"]
    assert "no 'Organisation' record" in missing and "Nobody Ltd" in missing
    assert result.preview[0]["action"] == "create" and result.preview[0]["cells"][3]["value"] is not None
    assert {"line": 3, "field": "birthday", "column": "Birthday", "message": bad["birthday"]} in result.to_json()["errors"]


def test_all_or_nothing_writes_nothing_and_lists_the_bad_rows(crm, tmp_path):
    _db, store, who, _acme = crm
    rows = [["Name", "Birthday"]] + [[f"P{i}", "2026-01-01"] for i in range(30)] + [["", "2026-01-01"]]
    path = write_csv(tmp_path / "a.csv", rows)
    bad = tmp_path / "bad.xlsx"
    with pytest.raises(ImportFailed) as exc:
        Importer(store, who, "person", readers.open_sheet(str(path)),
                 ImportSettings.from_json({"mapping": {"Name": "name", "Birthday": "birthday"}}),
                 chunk=10, bad_rows_path=str(bad)).run()
    assert exc.value.result.failed == 1 and exc.value.result.errors[0]["line"] == 32
    assert "is required" in exc.value.result.errors[0]["message"]
    assert people(store, who) == {}  # the 30 good rows in earlier chunks were rolled back too
    sheet = load_workbook(bad).active
    assert [c.value for c in sheet[1]] == ["Line", "Name", "Birthday", "Errors"]
    assert sheet[2][0].value == 32 and "Name: is required" in sheet[2][3].value


def test_good_rows_are_written_and_bad_ones_downloaded_as_xlsx(crm, tmp_path):
    _db, store, who, _acme = crm
    path = write_xlsx(tmp_path / "in.xlsx", [
        ["Name", "Score", "Extra?"], ["=1+1", "5"], ["Broken", "five"], ["Ragged", "1", "", "surprise"],
        ["Good", "7"]])
    bad = tmp_path / "bad.xlsx"
    result = run(store, who, path, bad=str(bad), mapping={"Name": "name", "Score": "score"}, atomic=False)
    assert (result.created, result.failed) == (2, 2)
    got = people(store, who)
    assert set(got) == {"=1+1", "Good"}  # the formula cell is stored as its text, never evaluated
    assert got["=1+1"]["score"] == Decimal("5")
    assert result.bad_rows_file == str(bad)
    sheet = load_workbook(bad).active
    lines = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(lines) == {3, 4}
    assert "Score:" in lines[3][4].value and "not a number" in lines[3][4].value
    assert "has 4 cells; the header has 3 columns" in lines[4][4].value


def test_update_by_code_and_upsert_by_email(crm, tmp_path):
    _db, store, who, _acme = crm
    with store.session(who, write=True) as s:
        ann = s.create("person", {"name": "Ann", "email": "ann@example.org", "score": "1"})
    path = write_csv(tmp_path / "u.csv", [["Code", "Score"], [ann["code"], "2"]])
    result = run(store, who, path, mapping={"Code": "code", "Score": "score"}, mode="update", key="code")
    assert (result.updated, result.created) == (1, 0)
    assert people(store, who)["Ann"]["score"] == Decimal("2")
    missing = write_csv(tmp_path / "m.csv", [["Code", "Score"], ["P-99999", "2"]])
    with pytest.raises(ImportFailed) as exc:
        run(store, who, missing, mapping={"Code": "code", "Score": "score"}, mode="update", key="code")
    assert "no record has code = p99999" in exc.value.result.errors[0]["message"]
    upsert = write_csv(tmp_path / "up.csv", [["Name", "E-mail", "Score"], ["Ann", "ANN@example.org", "3"],
                                             ["Bob", "bob@example.org", "4"]])
    result = run(store, who, upsert, mapping={"Name": "name", "E-mail": "email", "Score": "score"},
                 mode="upsert", key=["email"])
    assert (result.updated, result.created) == (1, 1)
    got = people(store, who)
    assert got["Ann"]["score"] == Decimal("3") and got["Ann"]["version"] == 3 and got["Bob"]["score"] == Decimal("4")


def test_duplicates_are_grouped_before_writing_and_decided_per_group(crm, tmp_path):
    _db, store, who, _acme = crm
    with store.session(who, write=True) as s:
        s.create("person", {"name": "Ann Lee", "email": "ann@example.org", "phone": "+49 30 1234567",
                            "city": "Berlin"})
    path = write_csv(tmp_path / "d.csv", [
        ["Name", "E-mail", "Phone", "City"],
        ["Ann Lee", "Ann@Example.org", "030 1234567", "Berlin"],   # = existing by e-mail
        ["Bob", "bob@example.org", "", "Bonn"],
        ["Bob Two", "BOB@example.org", "", "Bonn"],               # = row 3 by e-mail
        ["Cy", "", "(030) 123-4567", "Köln"],                     # = existing by phone
        ["Dee", "dee@example.org", "", "Hamburg"]])
    settings = {"mapping": {"Name": "name", "E-mail": "email", "Phone": "phone", "City": "city"},
                "duplicate_rules": [["email"], ["phone"], ["name", "city"]]}
    preview = run(store, who, path, dry_run=True, **settings)
    groups = {g["key"]: g for g in preview.to_json()["duplicate_groups"]}
    assert set(groups) == {"email:annexampleorg", "email:bobexampleorg", "phone:49301234567"}
    assert groups["email:annexampleorg"]["existing"][0]["code"] == "P-00001"
    assert groups["email:bobexampleorg"]["lines"] == [3, 4] and groups["email:bobexampleorg"]["existing"] == []
    assert len(people(store, who)) == 1  # nothing written by the preview
    result = run(store, who, path, **settings, duplicate_actions={
        "email:annexampleorg": "update", "phone:49301234567": "create"}, duplicate_default="skip")
    assert (result.created, result.updated, result.skipped) == (3, 1, 1)
    got = people(store, who)
    assert set(got) == {"Ann Lee", "Bob", "Cy", "Dee"}
    assert got["Ann Lee"]["email"].lower() == "ann@example.org" and got["Ann Lee"]["version"] == 2


def test_saved_mapping_is_proposed_again(crm, tmp_path):
    db, store, who, _acme = crm
    with store.session(who, write=True) as s:
        obj = s.object("person")
        save_mapping(s.conn, obj, "Partner export", {"Kontakt": "name", "Mail": "email"}, {"locale": "de"}, who.user_id)
        save_mapping(s.conn, obj, "Partner export", {"Kontakt": "name", "Mail": "email", "Tel": "phone"}, {}, who.user_id)
    with store.session(who) as s:
        saved = saved_mappings(s.conn, s.object("person"))
        assert [m["name"] for m in saved] == ["Partner export"]  # saved again under its name: replaced
        picked = best_saved(saved, ["Kontakt", "Tel", "Notes"])
        assert propose(s.object("person"), ["Kontakt", "Tel", "Notes"], saved=picked) == {
            "Kontakt": "name", "Tel": "phone", "Notes": None}
        with pytest.raises(ValidationError, match="1 to 200"):
            save_mapping(s.conn, s.object("person"), " ", {}, {}, None)


def test_bad_settings_and_mappings_are_named(crm, tmp_path):
    _db, store, who, _acme = crm
    with pytest.raises(ValidationError) as exc:
        ImportSettings.from_json({"mode": "merge", "locale": "fr", "atomic": "yes", "duplicate_rules": "email"})
    assert set(exc.value.errors) == {"mode", "locale", "atomic", "duplicate_rules"}
    path = write_csv(tmp_path / "x.csv", [["Name", "Name"], ["a", "b"]])
    with pytest.raises(ValidationError) as exc:
        run(store, who, path, mapping={"Name": "name", "Name (2)": "name"})
    assert "filled from column 'Name' already" in exc.value.errors["mapping.Name (2)"][0]
    with pytest.raises(ValidationError, match="not a field of 'person'"):
        run(store, who, path, mapping={"Name": "salary"})
    with pytest.raises(ValidationError, match="map a column to 'email'"):
        run(store, who, path, mapping={"Name": "name"}, mode="upsert", key="email")


def test_rights_are_checked_by_the_store(crm, tmp_path):
    db, store, _who, _acme = crm
    from cardbase.schema_engine.actor import Actor
    from cardbase.schema_engine.meta_models import User

    with db.write() as conn:
        uid = conn.execute(sa.insert(User).values(username="nobody", display_name="N", is_admin=False)
                           .returning(User.id)).scalar_one()
    path = write_csv(tmp_path / "r.csv", [["Name"], ["X"]])
    with pytest.raises(Forbidden):
        run(store, Actor(user_id=uid, username="nobody"), path, mapping={"Name": "name"})


@pytest.mark.parametrize("locale, cell, expect", [
    ("en-US", "11/22/1980", "1980-11-22"), ("en-GB", "22/11/1980", "1980-11-22"), ("en", "1980-11-22", "1980-11-22")])
def test_dates_in_the_files_locale(crm, tmp_path, locale, cell, expect):
    _db, store, who, _acme = crm
    path = write_csv(tmp_path / "d.csv", [["Name", "Birthday", "Score"], ["Ann", cell, "1,234.5"]])
    result = run(store, who, path, mapping={"Name": "name", "Birthday": "birthday", "Score": "score"}, locale=locale)
    assert result.created == 1
    got = people(store, who)["Ann"]
    assert str(got["birthday"]) == expect and got["score"] == Decimal("1234.5")


def test_slashed_date_without_a_locale_is_ambiguous(crm, tmp_path):
    _db, store, who, _acme = crm
    path = write_csv(tmp_path / "d.csv", [["Name", "Birthday"], ["Ann", "01/02/2026"]])
    result = run(store, who, path, dry_run=True, mapping={"Name": "name", "Birthday": "birthday"})
    assert "ambiguous" in result.errors[0]["message"] and "en-US" in result.errors[0]["message"]


def test_imported_rows_get_their_formulas_history_and_events(crm, tmp_path):
    db, store, who, _acme = crm
    from cardbase.schema_engine.actor import SYSTEM
    from cardbase.schema_engine.meta_models import OutboxEvent
    from cardbase.schema_engine.schema_service import SchemaService

    SchemaService(db).add_field(SYSTEM, "person", {"name": "double", "label": "Double", "type": "formula",
                                                   "options": {"formula": "[Score] * 2"}})
    path = write_csv(tmp_path / "f.csv", [["Name", "Score"], ["Ann", "2.5"], ["Bob", "4"]])
    run(store, who, path, mapping={"Name": "name", "Score": "score"})
    got = people(store, who)
    assert (got["Ann"]["double"], got["Bob"]["double"]) == (Decimal("5"), Decimal("8"))
    with db.read() as conn:
        topics = conn.execute(sa.select(OutboxEvent.topic)).scalars().all()
    assert topics.count("record.created") >= 2
    with store.session(who) as s:
        assert s.history("person", got["Ann"]["id"])[0]["action"] == "create"


def test_update_by_id(crm, tmp_path):
    _db, store, who, _acme = crm
    with store.session(who, write=True) as s:
        ann = s.create("person", {"name": "Ann", "score": "1"})
    path = write_csv(tmp_path / "id.csv", [["ID", "Score"], [str(ann["id"]), "9"], ["x1", "2"]])
    result = run(store, who, path, mapping={"ID": "id", "Score": "score"}, mode="update", key="id", atomic=False)
    assert (result.updated, result.failed) == (1, 1) and "'x1' is not a record id" in result.errors[0]["message"]
    assert people(store, who)["Ann"]["score"] == Decimal("9")


def test_a_large_import_refreshes_the_planner_statistics_on_postgresql(crm, tmp_path, monkeypatch):
    """After an import of many rows PostgreSQL knows the table's size at once (ANALYZE),
    instead of planning reports as if it were empty until autovacuum comes round; SQLite's
    planner is left on its defaults (no statistics table appears)."""
    from cardbase.transfer import importer

    db, store, who, _acme = crm
    monkeypatch.setattr(importer, "ANALYZE_AFTER_ROWS", 25)
    rows = [["Name", "City"]] + [[f"Person {i}", "Berlin"] for i in range(30)]
    result = run(store, who, write_csv(tmp_path / "many.csv", rows), mapping={"Name": "name", "City": "city"})
    assert result.created == 30
    table = db.schema().table(db.schema().object("person")).name
    with db.read() as conn:
        if db.is_sqlite:
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 0
        else:
            assert conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar() == 30
