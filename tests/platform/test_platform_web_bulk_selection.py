"""Issue 14, point 9: ticked rows of a list are changed, trashed or exported in one action.
"Export selected" is the list's own export (columns, sort, filter) narrowed to the ticked
ids; a bulk change touching one record the user may not edit changes nothing and names
that record (all or nothing)."""
from __future__ import annotations

import csv
import io

import lxml.html
import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.operations import MAX_BULK

from test_platform_web_bulk import danger, deals, notice, post_bulk, ticks
from test_platform_web_lists import client_for, list_app, page_of

LIST = "/o/deal?sort=title"


@pytest.fixture
def app(db):
    return list_app(db)


def csv_titles(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[-1500:]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return [r[0] for r in rows[1:]]


def test_the_toolbar_offers_export_selected_with_the_lists_state(app):
    body = page_of(client_for(app, "sam"), "/o/deal?sort=-title&cols=title,amount")
    doc = lxml.html.fromstring(body)
    links = {a.get("id"): a.get("href") for a in doc.xpath('//form[@id="cb-bulk-form"]//a[@data-export-selected]')}
    assert set(links) == {"cb-bulk-export-csv", "cb-bulk-export-xlsx"}
    assert "/o/deal/export.csv?" in links["cb-bulk-export-csv"] and "sort=-title" in links["cb-bulk-export-csv"]
    assert "cols=title%2Camount" in links["cb-bulk-export-csv"] or "cols=title,amount" in links["cb-bulk-export-csv"]


def test_export_selected_holds_only_the_ticked_rows_in_the_lists_order(app, db):
    sam = client_for(app, "sam")
    by_code = deals(db)
    ids = sorted(r["id"] for r in by_code.values() if r["title"] in ("Deal 001", "Deal 004", "Deal 005"))
    url = f"/o/deal/export.csv?cols=title,stage&sort=-title&ids={','.join(map(str, ids))}"
    assert csv_titles(sam.get(url)) == ["Deal 005", "Deal 004", "Deal 001"]
    # with the list's filter (won deals only), a ticked row the filter hides is not exported
    won = '{"field": "stage", "op": "eq", "value": "won"}'
    assert csv_titles(sam.get(url + f"&filter={won}")) == ["Deal 005", "Deal 001"]
    xlsx = sam.get(url.replace("export.csv", "export.xlsx"))
    assert xlsx.status_code == 200 and xlsx.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize("ids, words", [
    ("1,abc", ["abc", "record ids"]),
    ("", ["record ids"]),
    ("0", ["&#39;0&#39;", "record ids"]),
    (",".join(str(i) for i in range(1, MAX_BULK + 2)), ["At most", "selection"]),
])
def test_bad_selections_for_an_export_are_refused_clearly(app, ids, words):
    response = client_for(app, "sam").get(f"/o/deal/export.csv?ids={ids}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    for word in words:
        assert word in body, body[-1500:]


def test_export_selected_needs_the_export_right(app, db):
    rights.set_object_rights(db, SYSTEM, "Junior", "deal", ["read"])
    kim = client_for(app, "kim")
    assert kim.get("/o/deal/export.csv?ids=1,2").status_code == 403
    doc = lxml.html.fromstring(page_of(kim, "/o/deal"))
    assert not doc.xpath("//a[@data-export-selected]") and not doc.xpath('//input[contains(@class, "cb-row-select")]')


def test_a_bulk_change_touching_a_record_the_user_may_not_edit_changes_nothing_and_names_it(app, db):
    """kim may read every deal but edit only those under 104 (a rule view at level change)."""
    rights.set_object_rights(db, SYSTEM, "Junior", "deal", ["read", "edit"])
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    rights.save_rule_view(db, SYSTEM, "Junior", "deal", "All deals", {"field": "amount", "op": "is_not_empty"},
                          level="read")
    rights.save_rule_view(db, SYSTEM, "Junior", "deal", "Small deals", {"field": "amount", "op": "lt", "value": 104},
                          level="change")
    kim = client_for(app, "kim")
    boxes = ticks(page_of(kim, LIST))
    before = deals(db)
    assert len(boxes) == 7
    small = [c for c, r in before.items() if r["amount"].amount < 104]
    big = sorted(c for c in before if c not in small)
    assert len(small) == 4 and len(big) == 3
    response = post_bulk(kim, list(boxes.values()), op="change", field="stage", **{"v-stage": "won"})
    assert response.status_code == 302
    message = danger(page_of(kim, LIST))
    assert "Nothing was changed" in message
    for code in big:
        assert code in message, message
    for code in small:
        assert code not in message, message
    assert deals(db) == before  # all or nothing
    # the editable ones alone go through, as one action
    response = post_bulk(kim, [boxes[c] for c in small], op="change", field="stage", **{"v-stage": "won"})
    text, _undo_url, _next = notice(page_of(kim, LIST))  # one action, one Undo
    assert text == "4 records changed."
    after = deals(db)
    assert all(after[c]["stage"] == "won" for c in small) and all(after[c] == before[c] for c in big)
