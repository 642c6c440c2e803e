"""Issue 18, points 2-4 in the configurator: the scenario editor (trigger, condition with
the condition builder, actions as plain inputs), its run log, the webhook form with its
delivery log and "send again"; bad input shown on the page with nothing saved."""
from __future__ import annotations

import re

import sqlalchemy as sa
from api_testlib import PASSWORD, api_for, crm_app, signed_in

from cardbase.automation.worker import Services, Worker
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.automation_models import AllowedHost, Scenario, Webhook
from cardbase.schema_engine.store import RecordStore


def _scenario_form(**extra):
    form = {"name": "Qualify", "trigger_type": "created", "active": "1",
            "condition": '{"field": "stage", "op": "eq", "value": "lead"}',
            "a0_type": "set_fields", "a0_values": "quantity = 2\ntitle = =CONCAT([Title], \" (new)\")",
            "a1_type": "notify", "a1_users": "root", "a1_text": "New deal {title}"}
    form.update(extra)
    return form


def test_a_scenario_is_built_in_the_browser_and_runs(db):
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    page = browser.get("/designer/objects/deal/automation")
    assert page.status_code == 200 and 'id="cb-new-scenario"' in page.get_data(as_text=True)
    editor = browser.get("/designer/objects/deal/scenarios/new").get_data(as_text=True)
    assert 'data-cb-condition' in editor and 'name="a4_type"' in editor
    saved = browser.post("/designer/objects/deal/scenarios/new", data=_scenario_form())
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with db.read() as conn:
        row = conn.execute(sa.select(Scenario.__table__)).mappings().one()
    assert row["condition"] == {"field": "stage", "op": "eq", "value": "lead"}
    assert row["actions"][0] == {"type": "set_fields", "values": {"quantity": "2", "title": '=CONCAT([Title], " (new)")'}}
    api = api_for(app, db, "root")
    deal = api.post("/api/v1/records/deal", {"title": "Acme"}).get_json()
    Worker(Services(store=RecordStore(db))).run_once()
    assert api.get(f"/api/v1/records/deal/{deal['id']}").get_json()["title"] == "Acme (new)"
    runs = browser.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'id="cb-scenario-runs"' in runs and "1. set_fields" in runs


def test_a_bad_scenario_is_shown_with_its_problems_and_nothing_is_saved(db):
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    bad = browser.post("/designer/objects/deal/scenarios/new", data=_scenario_form(
        a1_type="send_email", a1_to="x@example.com", a1_subject="Hi {nickname}", a1_body="x"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "unknown placeholder {nickname}" in html and 'value="Qualify"' in html
    broken = browser.post("/designer/objects/deal/scenarios/new", data=_scenario_form(condition="{not json"))
    assert broken.status_code == 422
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Scenario.__table__)).scalar() == 0


def test_the_webhook_screen_saves_shows_the_log_and_sends_again(db):
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    refused = browser.post("/designer/objects/deal/webhooks/new", data={
        "name": "ERP", "kind": "notify", "events": ["created"], "url": "http://10.0.0.8/hook", "active": "1",
        "timeout_ms": "2000", "on_timeout": "refuse"})
    assert refused.status_code == 422 and "private or loopback" in refused.get_data(as_text=True)
    with db.write() as conn:
        conn.execute(sa.insert(AllowedHost.__table__).values(pattern="127.0.0.1", allow_private=True))
    saved = browser.post("/designer/objects/deal/webhooks/new", data={
        "name": "ERP", "kind": "notify", "events": ["created"], "url": "http://127.0.0.1:9/hook", "active": "1",
        "timeout_ms": "2000", "on_timeout": "refuse"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "signing secret (shown once)" in html
    api_for(app, db, "root").post("/api/v1/records/deal", {"title": "Nobody listens"})
    Worker(Services(store=RecordStore(db), webhook_timeout=1.0)).run_once()  # port 9: refused, logged
    with db.read() as conn:
        wid = conn.execute(sa.select(Webhook.id)).scalar_one()
    page = browser.get(f"/designer/objects/deal/webhooks/{wid}").get_data(as_text=True)
    assert 'id="cb-webhook-log"' in page and "failed" in page
    delivery = page.split("/redeliver/")[1].split('"')[0]
    again = browser.post(f"/designer/objects/deal/webhooks/{wid}/redeliver/{delivery}", follow_redirects=True)
    assert "will be sent again" in again.get_data(as_text=True)


def test_people_without_the_configure_right_do_not_reach_the_screens(db):
    app = crm_app(db)
    browser = signed_in(app, "sam", PASSWORD)
    assert browser.get("/designer/objects/deal/automation").status_code == 403
    assert browser.post("/designer/objects/deal/scenarios/new", data=_scenario_form()).status_code == 403


def test_a_web_form_is_designed_in_the_configurator_and_embedded(db):
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    bad = browser.post("/designer/objects/deal/forms/new", data={
        "title": "Leads", "slug": "Not A Slug", "fields": ["title"], "active": "1"})
    assert bad.status_code == 422 and "lower-case letters" in bad.get_data(as_text=True)
    saved = browser.post("/designer/objects/deal/forms/new", data={
        "title": "Leads", "slug": "leads", "fields": ["quantity", "title"], "order_title": "1", "order_quantity": "2",
        "fixed": "stage = won", "confirmation": "Thanks!", "active": "1"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "/f/leads/embed.js" in html and "&lt;iframe" in html
    page = app.test_client().get("/f/leads").get_data(as_text=True)
    assert page.index('name="title"') < page.index('name="quantity"')  # the order picked
    assert "/f/leads" in browser.get("/designer/objects/deal/automation").get_data(as_text=True)


def test_the_editor_reads_rows_added_by_the_script_and_helps_in_german(db):
    """Issue 18 polish, point 1: rows added with "+ Add action" carry any index (a0, a7);
    without JavaScript five rows show every input, each marked with its action types."""
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    form = _scenario_form(a1_type="", a7_type="create_task", a7_title="Call {title}", a7_days="2")
    saved = browser.post("/designer/objects/deal/scenarios/new", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with db.read() as conn:
        actions = conn.execute(sa.select(Scenario.actions)).scalar_one()
    assert [a["type"] for a in actions] == ["set_fields", "create_task"]
    assert actions[1]["title"] == "Call {title}" and actions[1]["due_in_days"] == 2
    editor = browser.get(saved.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'id="cb-sc-action-(\d+)"', editor) == ["0", "1", "2", "3", "4"]  # 2 saved + 3 spare (no JS)
    assert 'data-cb-for="send_email"' in editor and 'id="cb-sc-action-template"' in editor
    users.update_user(db, SYSTEM, users.find_user(db, "root").id, language="de")
    page = signed_in(app, "root", PASSWORD).get("/designer/objects/deal/scenarios/new").get_data(as_text=True)
    assert "+ Aktion hinzufügen" in page and "Setzt Felder des Datensatzes, der das Szenario ausgelöst hat." in page
