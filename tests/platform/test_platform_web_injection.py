"""Issue 19, points 2 and 6: what a user puts into a list's filter, a saved view, the table
design or a URL parameter can neither break out of an HTML attribute nor crash a page.

Point 2 (attribute XSS): each quote-bearing payload goes into every filter value, view
name and definition, table design filter and URL parameter of the list, board, calendar
and table designer; the page must parse (lxml) into exactly the elements and attributes of
the same page with a harmless value -- no extra element, no ``onfocus``/``onerror``/
``autofocus`` -- and the payload must come back whole as text (the hidden filter input's
value, the view's name). A static check finds every ``tojson`` in an attribute of any
template (web and designer) and requires it to be escaped for the attribute.

Point 6 (lone surrogates): a JSON escape like ``"\\udcff"`` decodes to text no database
can store. Web input goes through the strict JSON reader (``cardbase.platform.jsonio``)
and is refused with a message naming the parameter; a stored definition holding such text
(written into ``cb_view`` directly, as an old version or a bug could have left it) is
shown as a problem -- the list without the broken filter and a message saying so --
never a 500: the list, its export, the table designer and the API's table.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import lxml.html
import pytest


from api_testlib import api_for
from test_platform_web_lists import client_for, list_app

ROOT = Path(__file__).resolve().parents[2]

PAYLOADS = [
    '"><img src=x onerror=alert(1)>',
    '" autofocus onfocus="alert(1)',
    "' autofocus onfocus='alert(1)",
    "</script><script>alert(1)</script>",
    "</textarea><img src=x onerror=alert(1)>",
]
HARMLESS = "harmless"
HANDLERS = {"onfocus", "onerror", "onload", "onmouseover", "autofocus"}


@pytest.fixture
def app(db):
    return list_app(db)


def get(client, url: str, statuses=(200, 400)) -> str:
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, (url, response.status_code, body[-2000:])
    return body


def shape(body: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every element of the page as (tag, its attribute names), in document order."""
    doc = lxml.html.document_fromstring(body)
    return [(el.tag, tuple(sorted(el.attrib))) for el in doc.iter() if isinstance(el.tag, str)]


def assert_no_injection(body: str, harmless_body: str, where: str) -> None:
    """The page with the payload has the same elements and attributes as with a harmless value."""
    got, expected = shape(body), shape(harmless_body)
    handlers = [(tag, attrs) for tag, attrs in got if HANDLERS & set(attrs)]
    assert not handlers, (where, handlers)
    assert got == expected, (where, [pair for pair in zip(got, expected) if pair[0] != pair[1]][:3],
                             len(got), len(expected))


def condition(value: str) -> dict:
    return {"field": "title", "op": "eq", "value": value}


def filter_url(path: str, value: str) -> str:
    return f"{path}?filter={quote(json.dumps(condition(value)))}"


def shown_filter(body: str) -> dict | None:
    """The filter the list's filter form carries (the hidden input, as the browser reads it)."""
    doc = lxml.html.document_fromstring(body)
    raw = doc.get_element_by_id("cb-filter-value").get("value")
    return json.loads(raw) if raw else None


# ---- point 2: attribute injection ------------------------------------------------------------------
def test_every_tojson_in_an_attribute_is_escaped_for_it():
    """``tojson`` escapes < > & ' but not ": inside an attribute (anywhere inside a tag) its
    output must be escaped again with ``forceescape`` (``|e`` leaves its Markup as it is)."""
    jinja = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
    found, checked = [], 0
    for path in sorted((ROOT / "cardbase").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path
        for m in re.finditer(r"\{\{(.*?)\}\}", text, re.S):
            if not re.search(r"\btojson\b", m.group(1)):
                continue
            before = jinja.sub("", text[:m.start()])
            if before.rfind("<") > before.rfind(">"):  # inside a tag: an attribute value
                checked += 1
                if not re.search(r"\btojson\s*\|\s*forceescape\b", m.group(1)):
                    found.append(f"{path.relative_to(ROOT)}: {m.group(0)[:120]}")
    assert checked >= 1  # the list's hidden filter input
    assert not found, found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_filter_value_in_the_url_stays_text(app, payload):
    sam = client_for(app, "sam")
    body = get(sam, filter_url("/o/deal", payload))
    assert_no_injection(body, get(sam, filter_url("/o/deal", HARMLESS)), "list filter")
    assert shown_filter(body) == condition(payload)
    doc = lxml.html.document_fromstring(body)
    model = json.loads(doc.get_element_by_id("cb-filter-model").text)
    assert (model["match"], model["rows"]) == ("and", [condition(payload)])  # beside them: the group words
    for path in ("/o/deal/board", "/o/deal/calendar"):
        assert_no_injection(get(sam, filter_url(path, payload)), get(sam, filter_url(path, HARMLESS)), path)


@pytest.mark.parametrize("param", ["q", "sort", "cols", "limit", "cursor", "view", "prev", "month", "sum"])
def test_other_url_parameters_stay_text(app, param):
    sam = client_for(app, "sam")
    for path in ("/o/deal", "/o/deal/board", "/o/deal/calendar"):
        harmless = get(sam, f"{path}?{param}={HARMLESS}", (200, 400, 404))
        for payload in PAYLOADS:
            body = get(sam, f"{path}?{param}={quote(payload)}", (200, 400, 404))
            assert_no_injection(body, harmless, f"{path} {param}")


def save_view(client, name: str, value: str, **extra) -> int:
    data = {"name": name, "definition": json.dumps({"columns": [{"field": "title"}], "filter": condition(value)}),
            **extra}
    response = client.post("/o/deal/views", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-1000:]
    return int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))


@pytest.mark.parametrize("shared", [False, True])
def test_a_saved_views_name_and_filter_stay_text(app, shared):
    owner = client_for(app, "root" if shared else "sam")
    extra = {"shared": "1"} if shared else {}

    def page_of_view(name: str, value: str) -> str:
        view_id = save_view(owner, name, value, **extra)
        body = get(owner, f"/o/deal?view={view_id}")
        assert owner.post(f"/o/deal/views/{view_id}/delete").status_code == 302
        get(owner, "/o/deal")  # shows (and so clears) the "deleted" notice
        return body

    for i, payload in enumerate(PAYLOADS):
        name = f"{payload} {i}"
        body = page_of_view(name, payload)
        doc = lxml.html.document_fromstring(body)
        assert shown_filter(body) == condition(payload)
        assert doc.get_element_by_id("cb-view-rename").get("value") == name
        assert doc.get_element_by_id("cb-delete-view-form").get("data-confirm") == f'Delete the view "{name}"?'
        saved = json.loads(doc.xpath('//form[@id="cb-save-view-form"]/input[@name="definition"]')[0].get("value"))
        assert saved["filter"] == condition(payload)
        harmless = page_of_view(f"{HARMLESS} {i}", HARMLESS)
        assert_no_injection(body, harmless, f"view {name!r}")
    if shared:  # everyone who may read deals gets the shared view
        view_id = save_view(owner, PAYLOADS[1], PAYLOADS[1], **extra)
        body = get(client_for(app, "sam"), f"/o/deal?view={view_id}")
        assert shown_filter(body) == condition(PAYLOADS[1])
        assert not [el for el in lxml.html.document_fromstring(body).iter()
                    if isinstance(el.tag, str) and HANDLERS & set(el.attrib)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_table_designs_filter_stays_text(app, db, payload):
    root = api_for(app, db, "root")
    design = {"columns": [{"field": "title"}], "sort": "title", "filter": condition(HARMLESS), "page_size": 50}
    assert root.call("PUT", "/api/v1/objects/deal/table", design).status_code == 200
    sam, admin = client_for(app, "sam"), client_for(app, "root")
    harmless_list, harmless_designer = get(sam, "/o/deal"), get(admin, "/designer/objects/deal/table")
    assert root.call("PUT", "/api/v1/objects/deal/table", {**design, "filter": condition(payload)}).status_code == 200
    body = get(sam, "/o/deal")
    assert_no_injection(body, harmless_list, "list with the table's filter")
    assert shown_filter(body) == condition(payload)
    body = get(admin, "/designer/objects/deal/table")
    assert_no_injection(body, harmless_designer, "table designer")
    textarea = lxml.html.document_fromstring(body).xpath('//textarea[@name="filter"]')[0]
    assert json.loads(textarea.text) == condition(payload)


# ---- point 6: lone surrogates and other text a database cannot store -----------------------------
SURROGATE = '{"field": "title", "op": "eq", "value": "\\udcff"}'  # JSON text: decodes to a lone surrogate
BAD_JSON = [
    (SURROGATE, "lone UTF-16 surrogate"),
    ('{"field": "\\udcff", "op": "eq", "value": "x"}', "lone UTF-16 surrogate"),
    ('{"field": "title", "op": "eq", "value": "a\\u0000b"}', "NUL character"),
    ('{"field": "amount", "op": "gt", "value": NaN}', "NaN is not valid JSON"),
    ("[" * 5000 + "]" * 5000, "nested"),
]


def messages(body: str) -> str:
    return " ".join(lxml.html.document_fromstring(body).xpath(
        '//div[contains(@class, "alert")]//text()|//main//p//text()'))


@pytest.mark.parametrize("raw, words", BAD_JSON)
def test_unstorable_text_in_a_url_filter_is_refused_naming_the_parameter(app, raw, words):
    sam = client_for(app, "sam")
    for path, start in (("/o/deal", "Filter: this is not a valid condition"),
                        ("/o/deal/board", "filter: is not a valid condition"),
                        ("/o/deal/calendar", "filter: is not a valid condition"),
                        ("/o/deal/export.csv", "Filter: this is not a valid condition")):
        response = sam.get(f"{path}?filter={quote(raw)}")
        body = response.get_data(as_text=True)
        assert response.status_code == 400, (path, response.status_code, body[-1500:])
        assert start in messages(body) and words in messages(body), (path, messages(body))
        assert "<tbody>" not in body  # no list shown as if unfiltered


def test_unstorable_text_in_the_save_view_form_is_refused(app, db):
    sam = client_for(app, "sam")
    definition = '{"columns": [{"field": "title"}], "filter": ' + SURROGATE + "}"
    response = sam.post("/o/deal/views", data={"name": "broken", "definition": definition})
    assert response.status_code == 302
    assert "could not be read" in get(sam, response.headers["Location"])
    assert api_for(app, db, "sam").get("/api/v1/records/deal/views").get_json()["data"] == []


def test_unstorable_text_in_the_table_designers_filter_is_refused(app, db):
    admin = client_for(app, "root")
    form = lxml.html.document_fromstring(get(admin, "/designer/objects/deal/table")).get_element_by_id("cb-table-form")
    data = {el.get("name"): el.get("value") or "" for el in form.xpath(".//input[@name]")}
    response = admin.post("/designer/objects/deal/table", data={**data, "filter": SURROGATE, "page_size": "50"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[-1500:]
    assert "is not a valid condition (a text at 'value' contains a lone UTF-16 surrogate" in messages(body)
    assert api_for(app, db, "root").get("/api/v1/objects/deal/table").get_json()["filter"] is None  # nothing saved


def store_broken_filter(db, view_id: int) -> None:
    """Put a filter with a lone surrogate into a stored definition, as an older version or a
    write around the checks could have left it (SQLAlchemy's JSON writes it escaped)."""
    import sqlalchemy as sa

    from cardbase.schema_engine.meta_models import SavedView

    with db.write() as conn:
        row = conn.execute(sa.select(SavedView.definition).where(SavedView.id == view_id)).scalar_one()
        conn.execute(sa.update(SavedView).where(SavedView.id == view_id)
                     .values(definition={**row, "filter": {"field": "title", "op": "eq", "value": "\udcff"}}))


def table_row_id(db) -> int:
    import sqlalchemy as sa

    from cardbase.schema_engine.layouts.tables import TABLE_NAME
    from cardbase.schema_engine.meta_models import SavedView

    with db.read() as conn:
        return conn.execute(sa.select(SavedView.id).where(SavedView.name == TABLE_NAME)).scalar_one()


def test_a_stored_table_filter_that_cannot_be_used_is_shown_as_a_problem(app, db):
    root = api_for(app, db, "root")
    design = {"columns": [{"field": "title"}], "sort": "title", "filter": condition("Deal 001"), "page_size": 50}
    assert root.call("PUT", "/api/v1/objects/deal/table", design).status_code == 200
    store_broken_filter(db, table_row_id(db))
    sam = client_for(app, "sam")
    # the list: every deal, without the filter, and a message saying so
    body = get(sam, "/o/deal", (200,))
    doc = lxml.html.document_fromstring(body)
    problem = doc.get_element_by_id("cb-stored-filter-problem").text_content()
    assert "default filter of the table of Deals cannot be used" in problem and "lone UTF-16 surrogate" in problem
    assert len(doc.xpath('//table[@id="cb-list-table"]/tbody/tr')) == 7
    assert shown_filter(body) is None
    # a filter of the user's own replaces it: no message then
    body = get(sam, filter_url("/o/deal", "Deal 001"), (200,))
    assert "cb-stored-filter-problem" not in body and len(
        lxml.html.document_fromstring(body).xpath('//table[@id="cb-list-table"]/tbody/tr')) == 1
    # the export refuses (a file cannot carry the message) and says why
    response = sam.get("/o/deal/export.csv")
    assert response.status_code == 409 and "lone UTF-16 surrogate" in messages(response.get_data(as_text=True))
    assert sam.get("/o/deal/export.csv?filter=").status_code == 200
    # the table designer shows the design without it, and the problem
    admin = client_for(app, "root")
    body = get(admin, "/designer/objects/deal/table", (200,))
    doc = lxml.html.document_fromstring(body)
    assert "lone UTF-16 surrogate" in doc.get_element_by_id("cb-table-filter-problem").text_content()
    assert (doc.xpath('//textarea[@name="filter"]')[0].text or "").strip() == ""
    # the API: the design without the filter, the problem, and the stored design's ETag
    response = root.get("/api/v1/objects/deal/table")
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_json()
    assert shown["filter"] is None and "lone UTF-16 surrogate" in shown["filter_problem"]
    assert shown["columns"] == [{"field": "title"}]
    # saving over it with that ETag replaces it (from the designer too)
    fixed = {**design, "filter": condition("Deal 002")}
    response = root.call("PUT", "/api/v1/objects/deal/table", fixed, headers={"If-Match": response.headers["ETag"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "filter_problem" not in root.get("/api/v1/objects/deal/table").get_json()
    assert "cb-stored-filter-problem" not in get(sam, "/o/deal", (200,))


def test_the_table_designer_saves_over_a_broken_stored_filter(app, db):
    root = api_for(app, db, "root")
    design = {"columns": [{"field": "title"}], "sort": "title", "filter": condition("Deal 001"), "page_size": 50}
    assert root.call("PUT", "/api/v1/objects/deal/table", design).status_code == 200
    store_broken_filter(db, table_row_id(db))
    admin = client_for(app, "root")
    form = lxml.html.document_fromstring(get(admin, "/designer/objects/deal/table")).get_element_by_id("cb-table-form")
    data = {el.get("name"): el.get("value") or "" for el in form.xpath(".//input[@name]")}
    response = admin.post("/designer/objects/deal/table", data={**data, "filter": "", "page_size": "50"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert root.get("/api/v1/objects/deal/table").get_json()["filter"] is None
    assert "cb-table-filter-problem" not in get(admin, "/designer/objects/deal/table")


def test_a_saved_view_whose_filter_cannot_be_used_is_shown_as_a_problem(app, db):
    sam = client_for(app, "sam")
    view_id = save_view(sam, "won", "Deal 001")
    store_broken_filter(db, view_id)
    body = get(sam, f"/o/deal?view={view_id}", (200,))
    doc = lxml.html.document_fromstring(body)
    problem = doc.get_element_by_id("cb-stored-filter-problem").text_content()
    assert "filter of this view cannot be used" in problem and "lone UTF-16 surrogate" in problem
    assert len(doc.xpath('//table[@id="cb-list-table"]/tbody/tr')) == 7
    response = sam.get(f"/o/deal/export.xlsx?view={view_id}")
    assert response.status_code == 409 and "filter of this view" in messages(response.get_data(as_text=True))
    # saving the view as shown replaces the broken filter
    saved = json.loads(doc.xpath('//form[@id="cb-save-view-form"]/input[@name="definition"]')[0].get("value"))
    assert saved["filter"] is None
    # the API answers the view without it, saying why (it answered 500)
    api = api_for(app, db, "sam")
    response = api.get(f"/api/v1/records/deal/views/{view_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_json()["definition"]
    assert shown["filter"] is None and "lone UTF-16 surrogate" in shown["filter_problem"]
    # a PUT with its ETag replaces the broken filter
    response = api.call("PUT", f"/api/v1/records/deal/views/{view_id}",
                        {"name": "won", "definition": {"columns": [{"field": "title"}], "filter": None}},
                        headers={"If-Match": response.headers["ETag"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "cb-stored-filter-problem" not in get(sam, f"/o/deal?view={view_id}", (200,))
