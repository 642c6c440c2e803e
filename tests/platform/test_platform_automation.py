"""Issue 18 through HTTP: the REST API of webhooks, scenarios, comments, tasks,
notifications and forms (point 9, in the OpenAPI description), the public form at
/f/<form> (point 7), and the browser's bell, card block and My tasks (points 5, 6)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from api_testlib import PASSWORD, api_for, crm_app, error_of, signed_in

from cardbase.automation import forms
from cardbase.automation.worker import Services, Worker
from cardbase.schema_engine.automation_models import AllowedHost
from cardbase.schema_engine.store import RecordStore


def test_webhook_api_creates_lists_logs_and_refuses_bad_urls(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    bad = api.post("/api/v1/webhooks", {"name": "x", "object": "deal", "events": ["created"], "url": "ftp://x.org/"})
    assert bad.status_code == 422 and "http or https" in error_of(bad)["fields"]["url"][0]
    itself = api.post("/api/v1/webhooks", {"name": "x", "object": "deal", "events": ["created"],
                                           "url": "http://localhost/api/v1/records/deal"})
    assert itself.status_code == 422 and error_of(itself)["fields"]["url"] == ["must not point at cardbase itself"]
    with db.write() as conn:
        conn.execute(sa.insert(AllowedHost.__table__).values(pattern="127.0.0.1", allow_private=True))
    made = api.post("/api/v1/webhooks", {"name": "ERP", "object": "deal", "events": ["created"],
                                         "url": "http://127.0.0.1:9/hook"})
    assert made.status_code == 201 and len(made.get_json()["secret"]) == 64
    wid = made.get_json()["id"]
    assert [w["name"] for w in api.get("/api/v1/webhooks").get_json()["data"]] == ["ERP"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{wid}").get_json()
    assert api.get(f"/api/v1/webhooks/{wid}/deliveries").get_json() == {"data": []}
    missing = api.post(f"/api/v1/webhooks/{wid}/redeliver", {"delivery": 5})
    assert missing.status_code == 422 and "delivery" in error_of(missing)["fields"]
    sam = api_for(app, db, "sam")
    assert sam.get(f"/api/v1/webhooks/{wid}").status_code == 404  # not sam's
    assert sam.post("/api/v1/webhooks", {"name": "x", "object": "deal", "events": ["created"],
                                         "url": "http://127.0.0.1:9/"}).status_code == 403
    assert api.patch(f"/api/v1/webhooks/{wid}", {"active": False}).get_json()["active"] is False
    assert api.delete(f"/api/v1/webhooks/{wid}").status_code == 204


def test_scenario_api_and_its_run_log(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    made = api.post("/api/v1/scenarios", {"name": "Big deals", "object": "deal", "trigger": {"type": "created"},
                                          "actions": [{"type": "set_fields", "values": {"probability": 50}}]})
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    bad = api.post("/api/v1/scenarios", {"name": "Bad", "object": "deal", "trigger": {"type": "created"},
                                         "actions": [{"type": "notify", "users": ["root"], "text": "{nope}"}]})
    assert bad.status_code == 422 and "unknown placeholder {nope}" in error_of(bad)["fields"]["actions[0].text"][0]
    deal = api.post("/api/v1/records/deal", {"title": "Via API"}).get_json()
    Worker(Services(store=RecordStore(db))).run_once()
    runs = api.get(f"/api/v1/scenarios/{sid}/runs").get_json()["data"]
    assert [r["status"] for r in runs] == ["ok"] and runs[0]["record"] == deal["id"]
    assert api.get(f"/api/v1/records/deal/{deal['id']}").get_json()["probability"] == 50


def test_incoming_hook_is_public_and_needs_the_right_token(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    made = api.post("/api/v1/scenarios", {"name": "Inbound", "object": "deal", "trigger": {"type": "webhook"},
                                          "actions": [{"type": "create_record", "object": "deal",
                                                       "values": {"title": "From outside"}}]}).get_json()
    anonymous = app.test_client()
    assert anonymous.post("/api/v1/hooks/wrong", json={}).status_code == 404
    assert anonymous.post(f"/api/v1/hooks/{made['trigger']['token']}", json={"a": 1}).status_code == 202
    Worker(Services(store=RecordStore(db))).run_once()
    assert [d["title"] for d in api.get("/api/v1/records/deal").get_json()["data"]] == ["From outside"]


def test_comments_activity_tasks_and_notifications_api(db):
    app = crm_app(db)
    root, sam = api_for(app, db, "root"), api_for(app, db, "sam")
    deal = root.post("/api/v1/records/deal", {"title": "Talk"}).get_json()
    url = f"/api/v1/records/deal/{deal['id']}"
    assert root.post(f"{url}/comments", {"body": ""}).status_code == 422
    assert root.post(f"{url}/comments", {"body": "hi", "author": "me"}).status_code in (400, 422)
    made = root.post(f"{url}/comments", {"body": "@sam could you call them?"})
    assert made.status_code == 201 and made.get_json()["mentions"] == []  # sam may not read deals: not told
    root.post(f"{url}/comments", {"body": "note to self"})
    assert [c["body"] for c in root.get(f"{url}/comments").get_json()["data"]] == ["note to self",
                                                                                   "@sam could you call them?"]
    feed = root.get(f"{url}/activity").get_json()["data"]
    assert [i["kind"] for i in feed] == ["comment", "comment", "change"]
    task = root.post("/api/v1/tasks", {"title": "Call", "object": "deal", "record": deal["id"], "assignee": "sam",
                                       "due_at": "2026-12-24T09:00:00Z"})
    assert task.status_code == 201
    assert [t["title"] for t in root.get(f"{url}/tasks").get_json()["data"]] == ["Call"]
    assert [t["title"] for t in sam.get("/api/v1/tasks").get_json()["data"]] == ["Call"]
    notes = sam.get("/api/v1/notifications").get_json()
    assert notes["unread"] == 1 and notes["data"][0]["kind"] == "task"
    assert sam.post("/api/v1/notifications/read", {"ids": "all"}).status_code == 422
    assert sam.post("/api/v1/notifications/read", {}).get_json() == {"marked": 1, "unread": 0}
    done = sam.post(f"/api/v1/tasks/{task.get_json()['id']}/complete")
    assert done.status_code == 200 and done.get_json()["done"] is True


def test_the_public_form_creates_records_and_resists_bots_floods_and_extra_fields(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    made = api.post("/api/v1/forms", {"slug": "leads", "title": "Get in touch", "object": "deal",
                                      "fields": ["title", "quantity"], "fixed": {"stage": "won"},
                                      "confirmation": "Thanks, we will call you."})
    assert made.status_code == 201, made.get_json()
    anonymous = app.test_client()
    page = anonymous.get("/f/leads")
    assert page.status_code == 200 and 'name="title"' in page.get_data(as_text=True)
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert 'name="stage"' not in page.get_data(as_text=True)  # fixed: hidden, and never taken from a post
    sent = anonymous.post("/f/leads", data={"title": "Lead from the web", "quantity": "3", forms.HONEYPOT: ""},
                          environ_base={"REMOTE_ADDR": "203.0.113.1"})
    assert sent.status_code == 200 and "Thanks, we will call you." in sent.get_data(as_text=True)
    [deal] = api.get("/api/v1/records/deal").get_json()["data"]
    assert (deal["title"], deal["stage"]) == ("Lead from the web", "won")
    extra = anonymous.post("/f/leads", data={"title": "x", "secret_note": "y"}, environ_base={"REMOTE_ADDR": "203.0.113.2"})
    assert extra.status_code == 422 and "is not on this form" in extra.get_data(as_text=True)
    bot = anonymous.post("/f/leads", data={"title": "spam", forms.HONEYPOT: "http://spam"},
                         environ_base={"REMOTE_ADDR": "203.0.113.3"})
    assert bot.status_code == 200 and len(api.get("/api/v1/records/deal").get_json()["data"]) == 1
    codes = [anonymous.post("/f/leads", data={"title": f"flood {i}"}, environ_base={"REMOTE_ADDR": "198.51.100.9"})
             .status_code for i in range(forms.RATE_LIMIT + 2)]
    assert codes[:forms.RATE_LIMIT] == [200] * forms.RATE_LIMIT and codes[forms.RATE_LIMIT:] == [429, 429]
    big = anonymous.post("/f/leads", data={"title": "x" * 70_000}, environ_base={"REMOTE_ADDR": "203.0.113.4"})
    assert big.status_code == 413
    assert anonymous.get("/f/nothing").status_code == 404
    script = anonymous.get("/f/leads/embed.js")
    assert script.status_code == 200 and "iframe" in script.get_data(as_text=True)


def test_the_openapi_document_describes_the_automation_endpoints(db):
    app = crm_app(db)
    paths = api_for(app, db, "root").get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/webhooks", "/api/v1/webhooks/{webhook_id}/deliveries", "/api/v1/webhooks/{webhook_id}/redeliver",
                 "/api/v1/scenarios", "/api/v1/scenarios/{scenario_id}/runs",
                 "/api/v1/records/deal/{record_id}/comments", "/api/v1/records/deal/{record_id}/activity",
                 "/api/v1/notifications", "/api/v1/forms",
                 "/api/v1/tasks", "/api/v1/hooks/{token}"):
        assert path in paths, path


def test_the_card_shows_tasks_and_the_activity_feed_and_the_bell_counts(db):
    app = crm_app(db)
    api = api_for(app, db, "root")
    deal = api.post("/api/v1/records/deal", {"title": "Shown"}).get_json()
    browser = signed_in(app, "root", PASSWORD)
    card = browser.get(f"/o/deal/{deal['id']}")
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and 'id="cb-activity"' in html and 'id="cb-comment-form"' in html
    posted = browser.post(f"/o/deal/{deal['id']}/comments", data={"body": "Looks good"})
    assert posted.status_code == 302
    assert "Looks good" in browser.get(f"/o/deal/{deal['id']}").get_data(as_text=True)
    browser.post(f"/o/deal/{deal['id']}/tasks", data={"title": "Ring back", "assignee": "root"})
    assert "Ring back" in browser.get("/tasks").get_data(as_text=True)
    sam = api_for(app, db, "sam")
    sam.post("/api/v1/tasks", {"title": "For root", "assignee": "root"})  # root is told
    home = browser.get("/tasks").get_data(as_text=True)
    count = re.search(r'id="cb-bell-count">(\d+)<', home)
    assert count and int(count.group(1)) >= 1
    browser.post("/notifications/read", data={"all": "1"})
    assert 'id="cb-bell-count"' not in browser.get("/tasks").get_data(as_text=True)


def test_the_admin_keeps_the_allow_list_through_the_api_and_others_may_not(db):
    app = crm_app(db)
    root, sam = api_for(app, db, "root"), api_for(app, db, "sam")
    bad = root.put("/api/v1/webhook-hosts", {"hosts": [{"host": "https://erp.example.com/x"}, {"host": "ok.example.com"},
                                                       {"host": "ok.example.com"}]})
    assert bad.status_code == 422
    assert set(error_of(bad)["fields"]) == {"hosts[0]", "hosts[2]"}
    assert root.get("/api/v1/webhook-hosts").get_json() == {"data": []}  # nothing half-saved
    saved = root.put("/api/v1/webhook-hosts", {"hosts": [{"host": "*.example.com"},
                                                         {"host": "127.0.0.1", "allow_private": True}]})
    assert saved.status_code == 200 and len(saved.get_json()["data"]) == 2
    assert sam.put("/api/v1/webhook-hosts", {"hosts": []}).status_code == 403
    listed = root.post("/api/v1/webhooks", {"name": "x", "object": "deal", "events": ["created"],
                                            "url": "https://other.org/hook"})
    assert listed.status_code == 422 and "allow list" in error_of(listed)["fields"]["url"][0]
    assert root.post("/api/v1/webhooks", {"name": "y", "object": "deal", "events": ["created"],
                                          "url": "http://127.0.0.1:8080/hook"}).status_code == 201


def test_the_allow_list_screen_for_admins(db):
    app = crm_app(db)
    browser = signed_in(app, "root", PASSWORD)
    assert browser.get("/designer/webhook-hosts").status_code == 200
    bad = browser.post("/designer/webhook-hosts", data={"hosts": "erp.example.com\nftp://nope"})
    assert bad.status_code == 422 and "ftp://nope" in bad.get_data(as_text=True)
    ok = browser.post("/designer/webhook-hosts", data={"hosts": "erp.example.com\n10.0.0.5 private"},
                      follow_redirects=True)
    assert "10.0.0.5 private" in ok.get_data(as_text=True)
    assert signed_in(app, "sam", PASSWORD).get("/designer/webhook-hosts").status_code == 403
