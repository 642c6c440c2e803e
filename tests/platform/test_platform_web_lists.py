"""The list view (/o/<object>) and the global search (/search) through the Flask test
client: columns (link paths too), sorting by header, the filter builder's fields and
operators, quick search, keyset pages, saved views (personal and shared), rights (hidden
fields, read-only users) and bad input answered with a clear message, never a 500."""
from __future__ import annotations

import json
import re

import lxml.html
import pytest

from cardbase.platform import users
from cardbase.platform.web import lists as web_lists
from cardbase.schema_engine import layouts, rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery, Page
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import PASSWORD, crm_app, signed_in

SALES = ("read", "create", "edit", "delete", "export")


@pytest.fixture
def app(db):
    return list_app(db)


def list_app(db):
    """The CRM with groups Sales (sam) and Junior (kim), three organisations and seven deals."""
    app = crm_app(db)  # organisation, deal; users root (admin), sam, kim
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.create_group(db, SYSTEM, "Junior")
    users.add_member(db, SYSTEM, "kim", "Junior")
    for obj in ("organisation", "deal"):
        rights.set_object_rights(db, SYSTEM, "Sales", obj, SALES)
    rights.set_object_rights(db, SYSTEM, "Junior", "organisation", ["read"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    store = RecordStore(db)
    orgs = store.bulk_create(SYSTEM, "organisation", [
        {"name": "Acme", "city": "Berlin"}, {"name": "Beta", "city": "Hamburg"}, {"name": "Gamma", "city": "Berlin"}])
    store.bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i:03d}", "organisation": orgs[i % 3], "amount": str(100 + i), "stage": "won" if i % 2 else "lead",
         "secret_note": "TOP-SECRET", "close_date": f"2026-01-{1 + i % 28:02d}"} for i in range(7)])
    app.config["test_orgs"] = orgs
    return app


def client_for(app, username: str):
    return signed_in(app, username, PASSWORD)


def page_of(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == status, (url, response.status_code, body[-3000:])
    return body


def row_texts(body: str, column: int = 0) -> list[str]:
    """The text of one column of every row of the list table."""
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append(re.sub(r"<[^>]+>", "", cells[column]).replace("↗", "").strip())
    return out


def headers(body: str) -> list[str]:
    thead = body.split("<thead", 1)[1].split("</thead>", 1)[0]
    return [re.sub(r"<[^>]+>|[▲▼]", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)]


def errors_of(body: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip()
            for m in re.findall(r'<div class="alert alert-danger[^"]*"[^>]*>(.*?)</div>', body, re.S)]


def test_default_columns_come_from_the_table_design(app, db):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal")
    # the generated table: the display field, then further fields; never the hidden one
    assert headers(body)[:3] == ["Title", "Amount", "Quantity"]
    assert "Secret note" not in body and "TOP-SECRET" not in body
    assert len(row_texts(body)) == 7
    # the power user's design wins
    layouts.save_table(db, SYSTEM, "deal", {"columns": [{"field": "title"}, {"field": "stage"}], "sort": "title"})
    body = page_of(sam, "/o/deal")
    assert headers(body) == ["Title", "Stage"]
    assert row_texts(body) == [f"Deal {i:03d}" for i in range(7)]


def test_values_are_formatted_per_type(app):
    body = page_of(client_for(app, "root"), "/o/deal?cols=title,amount,stage,close_date&sort=title")
    assert "100.00 EUR" in body  # money with its currency
    assert 'class="badge cb-badge cb-color-green">Won</span>' in body  # choices as coloured badges
    assert "2026-01-01" in body


# ---- formatting per type and language ----------------------------------------------------------------
FORMAT_COLUMNS = "title,amount,quantity,close_date,met,organisation,mail,phone,site"


def add_contact_fields(app, db) -> int:
    """Deal gets a date-time, an e-mail, a phone and a URL field; one deal (of Acme) fills
    every column of FORMAT_COLUMNS. Returns its id."""
    svc = SchemaService(db)
    for spec in ({"name": "met", "label": "Met at", "type": "datetime"},
                 {"name": "mail", "label": "E-mail", "type": "email"},
                 {"name": "phone", "label": "Phone", "type": "phone"},
                 {"name": "site", "label": "Website", "type": "url"}):
        svc.add_field(SYSTEM, "deal", spec)
    return RecordStore(db).create(SYSTEM, "deal", {
        "title": "Formatted", "amount": "1234.5", "quantity": "12345.25", "close_date": "2026-01-05",
        "met": "2026-01-05T10:30:00Z", "organisation": app.config["test_orgs"][0], "mail": "anna@example.com",
        "phone": "+49 30 1234567", "site": "https://example.com/a?b=1"})["id"]


def list_doc(client, url: str, status: int = 200):
    return lxml.html.fromstring(page_of(client, url, status))


def list_cells(doc, record_id: int) -> dict[str, "lxml.html.HtmlElement"]:
    """The cells of one row of the list, by the column's path."""
    paths = [th.get("data-path") for th in doc.xpath('//table[@id="cb-list-table"]/thead//th')]
    row = doc.xpath(f'//table[@id="cb-list-table"]/tbody/tr[@data-id="{record_id}"]')
    assert len(row) == 1, record_id
    return dict(zip(paths, row[0].xpath("./td")))


def cell_text(cell) -> str:
    return " ".join(cell.text_content().replace("↗", "").split())


def only_link(cell) -> dict[str, str]:
    """The one link of a cell besides the row's "open the card" arrow: its attributes and text."""
    links = [a for a in cell.xpath(".//a") if "cb-open" not in (a.get("class") or "")]
    assert len(links) == 1, lxml.html.tostring(cell)
    return {**links[0].attrib, "text": links[0].text_content()}


@pytest.mark.parametrize("language, expect", [
    ("de", {"amount": "1.234,50 EUR", "quantity": "12.345,25", "close_date": "05.01.2026",
            "met": "05.01.2026 11:30"}),
    ("en", {"amount": "1,234.50 EUR", "quantity": "12,345.25", "close_date": "2026-01-05",
            "met": "2026-01-05 11:30"}),
])
def test_list_cells_are_formatted_in_the_users_language(app, db, monkeypatch, language, expect):
    monkeypatch.setenv("CARDBASE_TIMEZONE", "Europe/Berlin")  # 10:30 UTC in January is 11:30 there
    deal = add_contact_fields(app, db)
    users.update_user(db, SYSTEM, "sam", language=language)
    doc = list_doc(client_for(app, "sam"), f"/o/deal?cols={FORMAT_COLUMNS}")
    assert doc.get("lang") == language
    cells = list_cells(doc, deal)
    for path, text in expect.items():
        assert cell_text(cells[path]) == text, (language, path)
    for path in ("amount", "quantity"):
        assert "num" in cells[path].get("class").split()  # numbers right-aligned
    # the shown phone number is the international form in both languages
    assert cell_text(cells["phone"]) == "+49 30 1234567"


def test_list_cells_of_links_and_contact_fields_are_links(app, db):
    deal = add_contact_fields(app, db)
    cells = list_cells(list_doc(client_for(app, "sam"), f"/o/deal?cols={FORMAT_COLUMNS}"), deal)
    acme = app.config["test_orgs"][0]
    # the first cell opens the deal's card
    opener = cells["title"].xpath('.//a[contains(@class, "cb-open")]')
    assert [(a.get("href"), a.text_content()) for a in opener] == [(f"/o/deal/{deal}", "Formatted")]
    assert only_link(cells["organisation"]) == {"href": f"/o/organisation/{acme}", "text": "Acme"}
    assert only_link(cells["mail"]) == {"href": "mailto:anna@example.com", "text": "anna@example.com"}
    assert only_link(cells["phone"]) == {"href": "tel:+49301234567", "text": "+49 30 1234567"}
    site = only_link(cells["site"])
    assert site["href"] == site["text"] == "https://example.com/a?b=1"
    assert {"noopener", "noreferrer"} <= set(site["rel"].split()) and site["target"] == "_blank"
    # a link whose target the user may not read is not a link to it
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", [])
    cells = list_cells(list_doc(client_for(app, "sam"), "/o/deal?cols=title,organisation"), deal)
    assert cells["organisation"].xpath(".//a") == [] and cell_text(cells["organisation"]) == "restricted"


# ---- labels per language ---------------------------------------------------------------------------
def test_german_field_labels_show_on_the_list_the_card_and_the_filter_builder(app, db):
    svc = SchemaService(db)
    svc.set_translations(SYSTEM, "deal", {"de": {"label": "Geschäft", "label_plural": "Geschäfte"}})
    svc.set_translations(SYSTEM, "deal", {"de": {"label": "Betrag", "help_text": "Netto, ohne Steuer"}}, "amount")
    svc.set_translations(SYSTEM, "deal", {"de": {"label": "Abschluss am"}}, "close_date")
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Ort"}}, "city")
    deal = RecordStore(db).list(SYSTEM, "deal", ListQuery(limit=1)).data[0]["id"]
    url = "/o/deal?cols=title,amount,close_date,organisation.city"

    def seen(client):
        body = page_of(client, url)
        entries = {e["path"]: e["label"]
                   for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
        card = lxml.html.fromstring(page_of(client, f"/o/deal/{deal}"))
        labels = {el.get("for"): el.text_content().replace("*", "").strip()
                  for el in card.xpath('//label[@class="form-label"]')}
        helps = card.xpath('//div[@id="cb-f-amount-help"]')
        return {"h1": lxml.html.fromstring(body).xpath("//h1")[0].text_content().strip(), "headers": headers(body),
                "filter": [entries[p] for p in ("amount", "close_date", "organisation.city")],
                "card": [labels["cb-f-amount"], labels["cb-f-close_date"]],
                "help": helps[0].text_content().strip() if helps else None}

    users.update_user(db, SYSTEM, "sam", language="de")
    assert seen(client_for(app, "sam")) == {
        "h1": "Geschäfte", "headers": ["Title", "Betrag", "Abschluss am", "Organisation › Ort"],
        "filter": ["Betrag", "Abschluss am", "Organisation › Ort"], "card": ["Betrag", "Abschluss am"],
        "help": "Netto, ohne Steuer"}
    # an English user sees the base labels on the same screens
    assert seen(client_for(app, "root")) == {
        "h1": "Deals", "headers": ["Title", "Amount", "Close date", "Organisation › City"],
        "filter": ["Amount", "Close date", "Organisation › City"], "card": ["Amount", "Close date"], "help": None}


# ---- the menu -------------------------------------------------------------------------------------
def menu_of(client) -> list[tuple[str, str]]:
    doc = lxml.html.fromstring(page_of(client, "/o/organisation"))
    links = doc.xpath('//ul[contains(@class, "cb-objects")]//a')
    return [(a.get("data-object"), a.text_content().strip()) for a in links]


def test_the_menu_follows_the_power_users_object_order(app, db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "task", "label": "Task", "label_plural": "Tasks",
                               "fields": [{"name": "title", "label": "Title", "type": "string"}]})
    rights.set_object_rights(db, SYSTEM, "Sales", "task", ["read"])
    sam = client_for(app, "sam")
    assert menu_of(sam) == [("organisation", "Organisations"), ("deal", "Deals"), ("task", "Tasks")]
    # the power user moves Tasks to the front and Organisations to the end
    positions = {o.api_name: o.position for o in db.schema().objects}
    svc.update_object(SYSTEM, "task", {"position": min(positions.values()) - 1})
    svc.update_object(SYSTEM, "organisation", {"position": max(positions.values()) + 1})
    assert menu_of(sam) == [("task", "Tasks"), ("deal", "Deals"), ("organisation", "Organisations")]
    # in German, with the plural labels of the language, in the same order
    svc.set_translations(SYSTEM, "task", {"de": {"label": "Aufgabe", "label_plural": "Aufgaben"}})
    users.update_user(db, SYSTEM, "sam", language="de")
    assert menu_of(sam) == [("task", "Aufgaben"), ("deal", "Deals"), ("organisation", "Organisations")]
    # objects the user may not read are not in the menu
    assert menu_of(client_for(app, "kim")) == [("organisation", "Organisations")]


def test_link_path_columns_and_sorting_by_them(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal?cols=title,organisation.city,organisation.name&sort=organisation.name,title")
    assert headers(body) == ["Title", "Organisation › City", "Organisation › Name"]
    assert row_texts(body, 2) == ["Acme"] * 3 + ["Beta"] * 2 + ["Gamma"] * 2
    assert row_texts(body, 1)[:3] == ["Berlin"] * 3


def test_sort_by_clicking_a_header_toggles_the_direction(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal?cols=title,amount")
    link = re.search(r'<th[^>]*data-path="title"[^>]*>\s*(?:<input[^>]*>)?\s*<a[^>]*href="([^"]+)"', body).group(1)
    body = page_of(sam, link.replace("&amp;", "&"))
    assert re.search(r'<th[^>]*aria-sort="ascending"[^>]*data-path="title"', body)
    assert row_texts(body) == [f"Deal {i:03d}" for i in range(7)]
    link = re.search(r'<th[^>]*data-path="title"[^>]*>\s*(?:<input[^>]*>)?\s*<a[^>]*href="([^"]+)"', body).group(1)
    assert "sort=-title" in link
    body = page_of(sam, link.replace("&amp;", "&"))
    assert re.search(r'<th[^>]*aria-sort="descending"[^>]*data-path="title"', body)
    assert "▼" in body
    assert row_texts(body) == [f"Deal {i:03d}" for i in reversed(range(7))]


def test_filter_on_a_field_and_on_a_link_path(app):
    sam = client_for(app, "sam")
    tree = {"and": [{"field": "organisation.city", "op": "eq", "value": "Berlin"},
                    {"field": "amount", "op": "ge", "value": "103"}]}
    body = page_of(sam, "/o/deal?sort=title&cols=title&filter=" + json.dumps(tree))
    # Berlin: Acme (deals 0, 3, 6) and Gamma (2, 5); amount >= 103: 3, 5, 6
    assert row_texts(body) == ["Deal 003", "Deal 005", "Deal 006"]
    assert "3 records" in body
    model = json.loads(re.search(r'id="cb-filter-model">(.*?)</script>', body, re.S).group(1))
    assert (model["match"], model["rows"]) == ("and", tree["and"])  # the builder shows the conditions
    # "any" of the conditions
    either = {"or": tree["and"]}
    body = page_of(sam, "/o/deal?sort=title&cols=title&filter=" + json.dumps(either))
    assert row_texts(body) == ["Deal 000", "Deal 002", "Deal 003", "Deal 004", "Deal 005", "Deal 006"]


def test_the_filter_builder_offers_fields_and_operators_from_the_field_types(app, db):
    body = page_of(client_for(app, "sam"), "/o/deal")
    entries = {e["path"]: e for e in json.loads(re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S).group(1))}
    schema = db.schema()
    deal = schema.object("deal")
    for path in ("title", "amount", "stage", "close_date", "organisation", "tags"):
        assert [o["op"] for o in entries[path]["ops"]] == list(deal.field(path).ftype.operators), path
    assert entries["amount"]["input"] == "number" and entries["close_date"]["input"] == "date"
    assert entries["stage"]["input"] == "choice"
    assert {"value": "won", "label": "Won"} in entries["stage"]["choices"]
    assert entries["organisation"]["input"] == "link"
    # link paths one level deep, labelled with the link
    assert entries["organisation.city"]["label"] == "Organisation › City"
    assert "contains" in [o["op"] for o in entries["organisation.city"]["ops"]]
    assert "secret_note" not in entries  # hidden from sam: not offered
    root = page_of(client_for(app, "root"), "/o/deal")
    assert '"path": "secret_note"' in root


def test_quick_search(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/organisation?q=gam")
    assert row_texts(body) == ["Gamma"]
    assert 'value="gam"' in body
    body = page_of(sam, "/o/organisation?q=nothing-like-this")
    assert "No records match." in body


def test_keyset_pages_forward_and_back(app, db):
    RecordStore(db).bulk_create(SYSTEM, "organisation", [{"name": f"Org {i:03d}"} for i in range(120)])
    sam = client_for(app, "sam")
    first = page_of(sam, "/o/organisation?sort=name&cols=name&limit=50")
    assert "123 records" in first and "Rows 1–50" in first
    assert "cb-previous" not in first
    names = row_texts(first)
    nxt = re.search(r'id="cb-next"', first) and re.search(r'href="([^"]+)" id="cb-next"', first).group(1)
    second = page_of(sam, nxt.replace("&amp;", "&"))
    assert "Rows 51–100" in second
    assert row_texts(second)[0] > names[-1]
    nxt = re.search(r'href="([^"]+)" id="cb-next"', second).group(1)
    third = page_of(sam, nxt.replace("&amp;", "&"))
    assert "Rows 101–123" in third and len(row_texts(third)) == 23 and 'id="cb-next"' not in third
    back = re.search(r'href="([^"]+)" id="cb-previous"', third).group(1)
    assert row_texts(page_of(sam, back.replace("&amp;", "&"))) == row_texts(second)
    back = re.search(r'href="([^"]+)" id="cb-previous"', second).group(1)
    assert row_texts(page_of(sam, back.replace("&amp;", "&"))) == names


def test_counts_say_when_they_are_estimated():
    with_cap = Page([], None, 1000, True)
    bigger = Page([], None, 1_250_000, True)
    exact = Page([], None, 12, False)
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert web_lists.count_text(with_cap) == "more than 1,000 records"
        assert web_lists.count_text(bigger) == "about 1,250,000 records"
        assert web_lists.count_text(exact) == "12 records"
        assert web_lists.count_text(Page([], None, 1, False)) == "1 record"


def test_rows_open_their_card_and_new_needs_the_create_right(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/organisation")
    assert re.search(r'<tr data-href="/o/organisation/\d+"', body)
    assert re.search(r'<a class="cb-open fw-semibold" href="/o/organisation/\d+">', body)
    assert 'id="cb-new" href="/o/organisation/new"' in body
    assert 'id="cb-export"' in body
    kim = client_for(app, "kim")  # read only
    body = page_of(kim, "/o/organisation")
    assert 'id="cb-new"' not in body and 'id="cb-export"' not in body
    assert len(row_texts(body)) == 3
    assert kim.get("/o/deal").status_code == 403  # no read right on deals


def test_column_chooser_and_hidden_or_unknown_columns(app):
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal?cols=stage&cols=title")
    assert headers(body) == ["Stage", "Title"]
    body = page_of(sam, "/o/deal?cols=title,secret_note,nonsense")
    assert headers(body) == ["Title"]
    messages = errors_of(body)
    assert any("secret_note" in m for m in messages) and any("nonsense" in m for m in messages)
    assert "TOP-SECRET" not in body


@pytest.mark.parametrize("query, part, words", [
    ("filter=%7Bnot json", "Filter", "not a valid condition"),
    ("filter=[1,2]", "Filter", "must be a condition"),
    ('filter={"field": "nonsense", "op": "eq", "value": 1}', "Filter", "nonsense"),
    ('filter={"field": "secret_note", "op": "contains", "value": "TOP"}', "Filter", "secret_note"),
    ('filter={"field": "amount", "op": "starts_with", "value": "1"}', "Filter", "not supported"),
    ('filter={"field": "close_date", "op": "eq", "value": "yesterday-ish"}', "Filter", "close_date"),
    ("sort=secret_note", "Sort", "secret_note"),
    ("sort=organisation.nonsense", "Sort", "nonsense"),
    ("cursor=not-a-cursor", "Page position", "not valid"),
    ("limit=1000000000", "Page size", "from 1 to 500"),
    ("limit=-5", "Page size", "from 1 to 500"),
    ("view=abc", "View", "whole number"),
    ("view=999", "View", "no view"),
    ("q=" + "x" * 300, "Search", "at most 200"),
])
def test_bad_input_gets_a_clear_message(app, query, part, words):
    sam = client_for(app, "sam")
    response = sam.get("/o/deal?" + query)
    body = response.get_data(as_text=True)
    rows_shown = "<tbody>" in body
    if part in ("Filter", "Sort", "Page position", "Search"):  # the list asked for cannot be shown
        assert response.status_code == 400 and not rows_shown, query
    else:  # the setting is ignored: the list shows with the default
        assert response.status_code == 200 and rows_shown, query
    messages = errors_of(body)
    assert any(m.startswith(part) and words in m for m in messages), (query, messages)
    assert "TOP-SECRET" not in body


def test_unknown_object_is_a_404_page(app):
    response = client_for(app, "sam").get("/o/nonsense")
    assert response.status_code == 404


# ---- saved views ---------------------------------------------------------------------------------
def save(client, obj: str, name: str, definition: dict, **extra) -> "object":
    data = {"name": name, "definition": json.dumps(definition), **extra}
    return client.post(f"/o/{obj}/views", data=data)


def test_personal_views_are_private(app, db):
    sam = client_for(app, "sam")
    definition = {"columns": [{"field": "title"}, {"field": "organisation.city"}], "sort": "-title",
                  "filter": {"field": "stage", "op": "eq", "value": "won"}, "page_size": 2}
    response = save(sam, "deal", "My won deals", definition)
    assert response.status_code == 302
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    body = page_of(sam, f"/o/deal?view={view_id}")
    assert headers(body) == ["Title", "Organisation › City"]
    assert row_texts(body) == ["Deal 005", "Deal 003"]  # won, newest title first, 2 a page
    assert 'id="cb-next"' in body
    assert "My won deals" in body and 'label="My views"' in body
    # kim (another user) neither sees nor uses it
    rights.set_object_rights(db, SYSTEM, "Junior", "deal", ["read"])
    kim = client_for(app, "kim")
    assert "My won deals" not in page_of(kim, "/o/deal")
    body = page_of(kim, f"/o/deal?view={view_id}")
    assert any("no view" in m for m in errors_of(body))
    assert kim.post(f"/o/deal/views/{view_id}/delete").status_code == 302
    assert "My won deals" in page_of(sam, "/o/deal")  # still there
    # rename and delete by the owner
    response = sam.post(f"/o/deal/views/{view_id}/rename", data={"name": "Won"})
    assert response.status_code == 302
    assert [v["name"] for v in layouts.list_views(db, users_actor(db, "sam"), "deal")] == ["Won"]
    assert sam.post(f"/o/deal/views/{view_id}/delete").status_code == 302
    assert layouts.list_views(db, users_actor(db, "sam"), "deal") == []


def users_actor(db, username):
    from cardbase.platform.context import actor_for
    return actor_for(users.find_user(db, username), db)


def test_shared_views_need_the_configure_right(app, db):
    sam = client_for(app, "sam")
    response = save(sam, "deal", "Team view", {"columns": [{"field": "title"}]}, shared="1")
    assert response.status_code == 302
    messages = page_of(sam, response.headers["Location"])
    assert "The view was not saved" in messages and "configure" in messages
    assert layouts.list_views(db, users_actor(db, "sam"), "deal") == []
    body = page_of(sam, "/o/deal")
    assert 'id="cb-view-shared"' not in body  # the option is not offered
    root = client_for(app, "root")
    assert 'id="cb-view-shared"' in page_of(root, "/o/deal")
    response = save(root, "deal", "Team view", {"columns": [{"field": "title"}], "sort": "title"}, shared="1")
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    body = page_of(sam, "/o/deal")
    assert 'label="Shared views"' in body and "Team view" in body
    assert row_texts(page_of(sam, f"/o/deal?view={view_id}"))[0] == "Deal 000"
    # sam may not rename or delete it
    sam.post(f"/o/deal/views/{view_id}/delete")
    sam.post(f"/o/deal/views/{view_id}/rename", data={"name": "Mine now"})
    assert [v["name"] for v in layouts.list_views(db, users_actor(db, "sam"), "deal")] == ["Team view"]


def test_save_view_refuses_bad_definitions_clearly(app, db):
    sam = client_for(app, "sam")
    response = save(sam, "deal", "", {"columns": [{"field": "title"}]})
    body = page_of(sam, response.headers["Location"])
    assert "The view was not saved" in body and "Name" in body
    response = sam.post("/o/deal/views", data={"name": "x", "definition": "{broken"})
    assert "could not be read" in page_of(sam, response.headers["Location"])
    response = save(sam, "deal", "x", {"columns": [{"field": "nonsense"}]})
    assert "nonsense" in page_of(sam, response.headers["Location"])
    assert layouts.list_views(db, users_actor(db, "sam"), "deal") == []


def test_the_save_form_carries_the_list_as_shown(app):
    sam = client_for(app, "sam")
    tree = {"field": "organisation.city", "op": "eq", "value": "Berlin"}
    body = page_of(sam, "/o/deal?cols=title,organisation.city&sort=-title&limit=5&filter=" + json.dumps(tree))
    raw = re.search(r'name="definition" value="([^"]+)"', body).group(1)
    import html
    definition = json.loads(html.unescape(raw))
    assert definition == {"columns": [{"field": "title"}, {"field": "organisation.city"}], "sort": "-title",
                          "filter": tree, "page_size": 5}


def test_a_views_name_is_whole_in_the_delete_confirmation(app, db):
    sam = client_for(app, "sam")
    name = 'Sam\'s "best" <deals> & more'
    view_id = int(re.search(r"view=(\d+)", save(sam, "deal", name, {"columns": [{"field": "title"}]})
                            .headers["Location"]).group(1))
    doc = list_doc(sam, f"/o/deal?view={view_id}")
    assert doc.xpath('//form[@id="cb-delete-view-form"]')[0].get("data-confirm") == f'Delete the view "{name}"?'
    assert doc.xpath('//span[@id="cb-current-view"]')[0].text_content() == name
    users.update_user(db, SYSTEM, "sam", language="de")
    doc = list_doc(sam, f"/o/deal?view={view_id}")
    assert name in doc.xpath('//form[@id="cb-delete-view-form"]')[0].get("data-confirm")


# ---- export ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_says_how_many_rows_will_come(app, db, fmt):
    """The page's progress bar needs the total; the list page counts only its first thousand."""
    store = RecordStore(db)
    store.bulk_create(SYSTEM, "deal", [{"title": f"Bulk {i:04d}", "stage": "won"} for i in range(1000)])
    store.bulk_create(SYSTEM, "deal", [{"title": f"Bulk {i:04d}", "stage": "lead"} for i in range(1000, 1200)])
    sam = client_for(app, "sam")
    body = page_of(sam, "/o/deal?cols=title")
    assert 'data-total=""' in body and "more than 1,000 records" in body  # the page estimates ...
    def export(query: str) -> tuple[str, bytes]:
        response = sam.get(f"/o/deal/export.{fmt}?{query}")
        data = response.get_data()  # (the whole stream, inside its request)
        assert response.status_code == 200, data[:2000]
        return response.headers["X-Total-Count"], data

    assert export("cols=title")[0] == "1207"  # ... the export knows
    won = json.dumps({"field": "stage", "op": "eq", "value": "won"})
    total, data = export(f"cols=title&q=bulk&filter={won}")
    assert total == "1000"  # the filter and the search as shown
    if fmt == "csv":
        assert len([line for line in data.decode("utf-8-sig").splitlines() if line]) == 1001


# ---- global search -------------------------------------------------------------------------------
def test_global_search_groups_hits_by_readable_object(app, db):
    sam = client_for(app, "sam")
    body = page_of(sam, "/search?q=acme")
    assert 'data-object="organisation"' in body and "Acme" in body
    body = page_of(sam, "/search?q=deal")
    assert 'data-object="deal"' in body and "7 records" in body and "Show all in Deals" in body
    kim = client_for(app, "kim")  # may not read deals
    body = page_of(kim, "/search?q=deal")
    assert 'data-object="deal"' not in body and "Nothing found" in body
    assert "Nothing found" in page_of(sam, "/search?q=zzzz")
    assert "at most 200" in page_of(sam, "/search?q=" + "y" * 201, status=400)
    assert "Type a few letters" in page_of(sam, "/search")
