"""The import wizard in Chromium, at desktop and phone width: sam uploads a German CSV of
organisations, the columns are mapped by their German names, the preview shows the bad
cell and the duplicate group, the import runs as a job whose page follows its progress to
the end; the bad row can be downloaded. At phone width no wizard page scrolls sideways."""
from __future__ import annotations

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

PHONE = {"width": 390, "height": 844}
CSV = ("Name;Ort;Telefon;E-Mail\n"
       "Import Alpha GmbH;Berlin;030 1234567;alpha@example.org\n"
       "Import Beta AG;Köln;0221 7654321;beta@example.org\n"
       "Import Gamma KG;Bonn;not a phone;gamma@example.org\n"
       "Import Alpha GmbH;Berlin;030 1234567;alpha2@example.org\n").encode("cp1252")


def _names(site) -> list[str]:
    page = RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(search="Import", limit=50))
    return sorted(r["name"] for r in page.data)


def test_import_wizard_in_the_browser(page, site, login, screenshot, tmp_path):
    csv_file = tmp_path / "firmen.csv"
    csv_file.write_bytes(CSV)
    login(page, "sam")
    page.goto(site.url + "/o/organisation")
    page.locator("#cb-import-link").click()
    page.locator("#cb-import-file").set_input_files(str(csv_file))
    page.select_option("#cb-import-locale", "de")
    page.fill("#cb-import-region", "DE")
    page.locator("#cb-import-next").click()
    page.locator("#cb-import-columns").wait_for()
    assert page.locator("select[name=map_0]").input_value() == "name"
    assert page.locator("select[name=map_2]").input_value() == "phone"
    page.locator("#cb-rule-name_city").check()
    page.locator("input[name=atomic][value='0']").check()
    page.locator("#cb-import-preview-button").click()
    page.locator("#cb-import-preview").wait_for()
    assert "not a valid phone number" in page.locator("#cb-import-preview").inner_text()
    assert page.locator("#cb-import-duplicates tbody tr").count() == 1
    screenshot(page, "import-preview")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-import-preview")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#cb-import-run").click()
    page.wait_for_url("**/imports/*")
    page.locator("#cb-import-bad-rows").wait_for(timeout=30_000)  # the page follows the job to its end
    assert page.locator("#cb-import-created").inner_text() == "2"
    assert page.locator("#cb-import-failed").inner_text() == "1"
    page.wait_for_load_state()
    assert "width: 100%" in page.locator("#cb-import-bar").get_attribute("style")
    screenshot(page, "import-done")
    with page.expect_download() as download:
        page.locator("#cb-import-bad-rows").click()
    assert download.value.suggested_filename.endswith("-errors.xlsx")
    assert _names(site) == ["Import Alpha GmbH", "Import Beta AG"]  # the duplicate row was skipped
    assert page.js_errors == []
