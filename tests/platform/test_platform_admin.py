"""The admin area in the browser (issue 13, points 1-5, 8 and the bad input): users,
groups, the rights matrix, field rights, parent-following, rule views with the filter
builder, "why can she see this" and viewing as a user; every user's own password and API
tokens. Each refusal is shown with a clear message and changes nothing."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from api_testlib import PASSWORD, crm_app, signed_in

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.meta_models import ConfigChange, Group, User, UserGroup
from cardbase.schema_engine.rights.models import FieldRight, ObjectRight, ParentAccess, RecordScope, RuleView
from cardbase.schema_engine.rights.scopes import group_matrix
from cardbase.schema_engine.store.records import RecordStore
from cardbase.schema_engine.token_models import ApiToken


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def root(app):
    return signed_in(app, "root")


def text(response) -> str:
    return response.get_data(as_text=True)


def snapshot(db) -> dict:
    with db.read() as conn:
        return {m.__tablename__: sorted(map(tuple, conn.execute(sa.select(m.__table__)).all()), key=repr)
                for m in (User, Group, UserGroup, ObjectRight, RecordScope, FieldRight, RuleView, ParentAccess,
                          ApiToken)}


# ---- the way in ----------------------------------------------------------------------------------
def test_only_admins_come_in_and_the_header_shows_them_the_way(app, root):
    home = text(root.get("/"))
    assert 'id="cb-nav-admin"' in home and 'id="cb-my-account"' in home
    sam = signed_in(app, "sam")
    assert 'id="cb-nav-admin"' not in text(sam.get("/"))
    refused = sam.get("/admin/users")
    assert refused.status_code == 403
    assert "Only administrators may open the administration." in text(refused) and "cb-topbar" in text(refused)
    assert app.test_client().get("/admin/users").status_code == 302  # to the login page
    assert root.get("/admin/").status_code == 302
    listing = text(root.get("/admin/users"))
    assert 'data-user="sam"' in listing and 'data-user="root"' in listing


# ---- 1. users --------------------------------------------------------------------------------------
def test_create_a_user_with_a_password_and_groups(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    gid = users.list_groups(db)[0]["id"]
    created = root.post("/admin/users/new", data={"username": "jo", "display_name": "Jo", "email": "jo@example.com",
                                                  "language": "de", "groups": [str(gid)], "password_mode": "password",
                                                  "password": "violet-sky-93"})
    assert created.status_code == 302
    row = users.find_user(db, "jo")
    assert row.language == "de" and row.email == "jo@example.com"
    assert users.group_ids(db, row.id) == {gid}
    assert users.authenticate(db, "jo", "violet-sky-93") is not None
    before = snapshot(db)
    again = root.post("/admin/users/new", data={"username": "JO", "password": "violet-sky-93"})
    assert again.status_code == 422 and "&#39;JO&#39; is already taken" in text(again)
    weak = root.post("/admin/users/new", data={"username": "al", "password": "x"})
    assert weak.status_code == 422 and 'data-error-for="password"' in text(weak)
    assert snapshot(db) == before


def test_an_invitation_link_lets_the_user_set_their_password_once(app, db, root):
    response = root.post("/admin/users/new", data={"username": "newbie", "password_mode": "invite"},
                         follow_redirects=True)
    link = re.search(r"(http://localhost/invite/[\w.\-]+)", text(response)).group(1)
    path = link.replace("http://localhost", "")
    anonymous = app.test_client()
    page = anonymous.get(path)
    assert page.status_code == 200 and "set your password" in text(page)
    differ = anonymous.post(path, data={"password": "quiet-lake-41", "confirm": "quiet-lake-42"})
    assert differ.status_code == 422 and "The two passwords differ." in text(differ)
    assert anonymous.post(path, data={"password": "quiet-lake-41", "confirm": "quiet-lake-41"}).status_code == 302
    assert users.authenticate(db, "newbie", "quiet-lake-41") is not None
    used = anonymous.get(path)
    assert used.status_code == 400 and "already used" in text(used)
    assert anonymous.get("/invite/forged-token").status_code == 400


def test_edit_deactivate_reset_and_unlock(app, db, root):
    sam = signed_in(app, "sam")
    sam_id = users.find_user(db, "sam").id
    assert root.post(f"/admin/users/{sam_id}", data={"display_name": "Samuel", "email": "", "language": "en",
                                                     "is_admin": ""}).status_code == 302
    assert users.find_user(db, "sam").display_name == "Samuel"
    assert root.post(f"/admin/users/{sam_id}/active", data={"active": "0"}).status_code == 302
    assert sam.get("/").status_code == 302  # their session ended at once
    assert users.find_user(db, "sam").active is False
    assert root.post(f"/admin/users/{sam_id}/active", data={"active": "1"}).status_code == 302
    assert root.post(f"/admin/users/{sam_id}/password", data={"password": "amber-road-55"}).status_code == 302
    assert users.authenticate(db, "sam", "amber-road-55") is not None
    from cardbase.schema_engine.accounts import throttle
    from cardbase.schema_engine.meta_models import utcnow

    with db.write() as conn:
        for _ in range(throttle.FREE_FAILURES + 1):
            throttle.record_failure(conn, "sam", "10.1.1.1", utcnow())
    assert "cb-user-unlock" in text(root.get(f"/admin/users/{sam_id}"))
    assert root.post(f"/admin/users/{sam_id}/unlock").status_code == 302
    assert users.authenticate(db, "sam", "amber-road-55", address="10.1.1.1") is not None


def test_an_admin_cannot_deactivate_themselves_nor_remove_the_last_admin(app, db, root):
    root_id = users.find_user(db, "root").id
    before = snapshot(db)
    itself = root.post(f"/admin/users/{root_id}/active", data={"active": "0"})
    assert itself.status_code == 422 and "you cannot deactivate yourself" in text(itself)
    demote = root.post(f"/admin/users/{root_id}", data={"display_name": "Root", "language": "en"})
    assert demote.status_code == 422 and "last active administrator" in text(demote)
    assert snapshot(db) == before


def test_german_admin_screens(app, db, root):
    root.post("/account/language", data={"language": "de"})
    page = text(root.get("/admin/users"))
    assert "Benutzer" in page and "Neuer Benutzer" in page
    assert "Warum sieht jemand das?" in text(root.get("/admin/explain"))


# ---- 2. groups ---------------------------------------------------------------------------------------
def test_groups_create_rename_members_and_delete(app, db, root):
    assert root.post("/admin/groups", data={"name": "Juniors"}).status_code == 302
    gid = users.list_groups(db)[0]["id"]
    before = snapshot(db)
    twice = root.post("/admin/groups", data={"name": "juniors"})
    assert twice.status_code == 422 and "a group named &#39;juniors&#39; already exists" in text(twice)
    assert snapshot(db) == before
    assert root.post(f"/admin/groups/{gid}", data={"name": "Junior staff"}).status_code == 302
    sam_id = users.find_user(db, "sam").id
    assert root.post(f"/admin/groups/{gid}/members", data={"user": sam_id, "action": "add"}).status_code == 302
    assert 'data-member="sam"' in text(root.get(f"/admin/groups/{gid}"))
    assert users.group_members(db, "Junior staff") == ["sam"]
    rights.set_object_rights(db, SYSTEM, gid, "deal", ["read"])
    before = snapshot(db)
    refused = root.post(f"/admin/groups/{gid}/delete")
    assert refused.status_code == 409 and "while rights refer to it" in text(refused)
    assert "object rights on Deals" in text(refused)
    assert snapshot(db) == before
    rights.set_object_rights(db, SYSTEM, gid, "deal", [])
    assert root.post(f"/admin/groups/{gid}/delete").status_code == 302
    assert users.list_groups(db) == []


# ---- 3/4. rights matrix and field grid -------------------------------------------------------------------
def test_rights_matrix_saves_rights_and_scope_logs_them_and_refuses_a_stale_form(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    gid = users.list_groups(db)[0]["id"]
    deal = db.schema().object("deal")
    org = db.schema().object("organisation")
    page = text(root.get(f"/admin/groups/{gid}/rights"))
    assert "What adds up:" in page and "What restricts:" in page
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    form = {"fingerprint": fingerprint, f"s-{org.id}": "", f"r-{org.id}-read": "1",
            f"s-{deal.id}": "rule_views", f"r-{deal.id}-read": "1", f"r-{deal.id}-edit": "1"}
    assert root.post(f"/admin/groups/{gid}/rights", data=form).status_code == 302
    rows = {r["object"].api_name: r for r in group_matrix(db, gid)["objects"]}
    assert rows["deal"]["rights"] == {"read", "edit"} and rows["deal"]["scope"] == "rule_views"
    assert rows["organisation"]["rights"] == {"read"} and rows["organisation"]["scope"] is None
    with db.read() as conn:
        logged = conn.execute(sa.select(ConfigChange.target, ConfigChange.details)
                              .where(ConfigChange.action == "rights.object").order_by(ConfigChange.id)).all()
    assert [t for t, _ in logged] == ["organisation", "deal"]
    assert logged[1][1]["before"] == {"rights": [], "scope": None}
    assert logged[1][1]["after"] == {"rights": ["read", "edit"], "scope": "rule_views"}
    before = snapshot(db)
    stale = root.post(f"/admin/groups/{gid}/rights", data={**form, f"r-{deal.id}-delete": "1"})  # old fingerprint
    assert stale.status_code == 409 and "changed by someone else since you opened the form" in text(stale)
    assert snapshot(db) == before


def test_field_grid_hides_a_field_from_a_group(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    users.add_member(db, SYSTEM, "sam", "Juniors")
    gid = users.list_groups(db)[0]["id"]
    rights.set_object_rights(db, SYSTEM, gid, "deal", ["read"])
    note = db.schema().object("deal").field("secret_note")
    page = text(root.get("/admin/objects/deal/fields"))
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    assert root.post("/admin/objects/deal/fields", data={"fingerprint": fingerprint,
                                                         f"l-{gid}-{note.id}": "hidden"}).status_code == 302
    RecordStore(db).create(SYSTEM, "deal", {"title": "Alpha-deal", "secret_note": "psst"})
    sam = signed_in(app, "sam")
    listing = sam.get("/o/deal")
    assert listing.status_code == 200 and "Alpha-deal" in text(listing)
    assert "psst" not in text(listing) and "Secret note" not in text(listing)
    stale = root.post("/admin/objects/deal/fields", data={"fingerprint": fingerprint, f"l-{gid}-{note.id}": ""})
    assert stale.status_code == 409


def test_parent_following_is_set_on_the_page_and_a_loop_is_refused(app, db, root):
    from cardbase.schema_engine.schema_service import SchemaService

    SchemaService(db).add_field(SYSTEM, "organisation", {"name": "main_deal", "label": "Main deal", "type": "link",
                                                         "options": {"target": "deal", "on_delete": "set_null"}})
    assert root.post("/admin/objects/deal/parent", data={"field": "organisation"}).status_code == 302
    before = snapshot(db)
    loop = root.post("/admin/objects/organisation/parent", data={"field": "main_deal"})
    assert loop.status_code == 422
    assert "parent-following would loop: Organisations follow Deals follow Organisations" in text(loop)
    assert snapshot(db) == before


# ---- 5. rule views with the filter builder --------------------------------------------------------------
def test_rule_view_with_the_builder_count_preview_and_bad_filters(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    gid = users.list_groups(db)[0]["id"]
    store = RecordStore(db)
    for title, probability in (("small", 10), ("big", 90)):
        store.create(SYSTEM, "deal", {"title": title, "probability": probability})
    page = text(root.get("/admin/rule-views/new/deal"))
    assert 'id="cb-filter-fields"' in page and "js/lists.js" in page and 'id="cb-filter-rows"' in page
    entries = json.loads(re.search(r'<script type="application/json" id="cb-filter-fields">(.*?)</script>', page,
                                   re.S).group(1))
    assert {"probability", "organisation.city"} <= {e["path"] for e in entries}
    by_path = {e["path"]: e for e in entries}
    assert "this_month" in {o["op"] for o in by_path["close_date"]["ops"]}  # relative dates
    assert by_path["owner"]["me"] is True  # "current user"
    assert by_path["stage"]["choices"]  # a value picker
    small = json.dumps({"field": "probability", "op": "lt", "value": 50})
    assert root.get("/admin/rule-views/count/deal", query_string={"filter": small}).get_json() == {
        "count": 1, "estimated": False}
    preview = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "level": "read",
                                                            "filter": small, "action": "preview"})
    assert preview.status_code == 200 and "1 record matches" in text(preview)
    assert "a member of only this group sees 0 records of Deals" in text(preview)  # nothing saved yet
    before = snapshot(db)
    empty = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "level": "read",
                                                          "filter": "", "action": "save"})
    assert empty.status_code == 422 and "must be a non-empty condition" in text(empty)
    invalid = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "level": "read",
                                                            "filter": json.dumps({"field": "nope", "op": "eq",
                                                                                  "value": 1}), "action": "save"})
    assert invalid.status_code == 422 and "nope" in text(invalid)
    broken = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "filter": "{oops",
                                                           "action": "save"})
    assert broken.status_code == 422 and "The filter is not valid JSON." in text(broken)
    bad_count = root.get("/admin/rule-views/count/deal", query_string={"filter": json.dumps({"field": "nope"})})
    assert bad_count.status_code == 422
    assert snapshot(db) == before
    saved = root.post("/admin/rule-views/new/deal", data={"name": "Small", "group": gid, "level": "change",
                                                          "filter": small, "action": "save"})
    assert saved.status_code == 302
    views = rights.rule_views(db, "deal")
    assert [(v["name"], v["level"], v["filter"]) for v in views] == [("Small", "change", json.loads(small))]
    assert 'data-rule-view="Small"' in text(root.get("/admin/rule-views"))
    again = root.post(f"/admin/rule-views/{views[0]['id']}", data={"name": "Small", "group": gid, "level": "change",
                                                                  "filter": small, "action": "preview"})
    assert "a member of only this group sees 1 records of Deals" in text(again)  # the list as that group
    edit = root.post(f"/admin/rule-views/{views[0]['id']}", data={"name": "Smaller", "group": gid, "level": "read",
                                                                 "filter": small, "action": "save"})
    assert edit.status_code == 302 and [v["name"] for v in rights.rule_views(db, "deal")] == ["Smaller"]


# ---- 8. why can she see this, and viewing as her -------------------------------------------------------
def test_explain_and_view_as_read_only_marked_and_logged(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    users.add_member(db, SYSTEM, "sam", "Juniors")
    rights.set_object_rights(db, SYSTEM, "Juniors", "deal", ["read", "edit"])
    rights.save_rule_view(db, SYSTEM, "Juniors", "deal", "Unlikely", {"field": "probability", "op": "lt", "value": 50})
    from cardbase.schema_engine.rights.scopes import set_record_scope

    set_record_scope(db, SYSTEM, "Juniors", "deal", "rule_views")
    store = RecordStore(db)
    small = store.create(SYSTEM, "deal", {"title": "small", "probability": 10})["id"]
    big = store.create(SYSTEM, "deal", {"title": "big", "probability": 90})["id"]
    sam_id = users.find_user(db, "sam").id
    yes = text(root.get("/admin/explain", query_string={"user": sam_id, "object": "deal", "record": small}))
    assert "rule view &#39;Unlikely&#39; of group &#39;Juniors&#39;" in yes
    no = text(root.get("/admin/explain", query_string={"user": sam_id, "object": "deal", "record": big}))
    assert "denied" in no
    whole = text(root.get("/admin/explain", query_string={"user": sam_id, "object": "deal"}))
    assert "Juniors: read, edit" in whole and "Only matching rule views" in whole
    bad = root.get("/admin/explain", query_string={"user": sam_id, "object": "deal", "record": "x"})
    assert bad.status_code == 422
    assert root.post("/admin/view-as", data={"user": sam_id}).status_code == 302
    listing = text(root.get("/o/deal"))
    assert 'id="cb-view-as-banner"' in listing and "small" in listing and ">big<" not in listing
    refused = root.post(f"/o/deal/{small}", data={"title": "changed"})
    assert refused.status_code == 403 and "read-only" in text(refused)
    assert store.get(SYSTEM, "deal", small)["title"] == "small"
    assert root.get("/admin/users").status_code == 403  # the admin area is closed while viewing as sam
    with db.read() as conn:
        assert conn.execute(sa.select(ConfigChange.target).where(ConfigChange.action == "admin.view_as")).scalar() \
            == "sam"
    assert root.post("/admin/view-as/stop").status_code == 302
    assert 'id="cb-view-as-banner"' not in text(root.get("/o/deal"))
    assert "big" in text(root.get("/o/deal"))


# ---- every user's password and tokens ------------------------------------------------------------------
def test_own_password_and_api_tokens(app, db):
    sam = signed_in(app, "sam")
    page = sam.get("/account")
    assert page.status_code == 200 and "Personal API tokens" in text(page)
    wrong = sam.post("/account/password", data={"current_password": "nope", "password": "dark-moss-77",
                                                "confirm": "dark-moss-77"})
    assert wrong.status_code == 422 and 'data-error-for="current_password"' in text(wrong)
    created = sam.post("/account/tokens", data={"name": "script", "expires": "2000-01-01"})
    assert created.status_code == 422 and "must be in the future" in text(created)
    created = sam.post("/account/tokens", data={"name": "script"})
    assert created.status_code == 201
    secret = re.search(r"(cb_[\w\-]+)", text(created)).group(1)
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    token_id = re.search(r'/account/tokens/(\d+)/revoke', text(created)).group(1)
    assert sam.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "Revoked" in text(sam.get("/account"))
    noname = sam.post("/account/tokens", data={"name": ""})
    assert noname.status_code == 422 and 'data-error-for="name"' in text(noname)
    changed = sam.post("/account/password", data={"current_password": PASSWORD, "password": "dark-moss-77",
                                                  "confirm": "dark-moss-77"})
    assert changed.status_code == 302 and users.authenticate(db, "sam", "dark-moss-77") is not None


# ---- 9. styled error pages --------------------------------------------------------------------------------
def test_error_pages_are_styled_for_every_blueprint(app, db, root):
    for url in ("/admin/nothing-here", "/designer/users", "/no-such-page", "/admin/users/99999"):
        page = root.get(url)
        assert page.status_code == 404, url
        assert "cb-topbar" in text(page) and "Back to cardbase" in text(page), url
    wrong_method = root.delete("/admin/users")
    assert wrong_method.status_code == 405 and "cb-topbar" in text(wrong_method)
    assert "GET" in wrong_method.headers["Allow"]
    sam = signed_in(app, "sam")
    designer = sam.get("/designer/")
    assert designer.status_code == 403 and "cb-topbar" in text(designer)
    assert root.get("/api/v1/nothing").get_json()["error"]["code"]  # the API keeps JSON


def test_a_server_error_is_a_styled_500(db):
    app = crm_app(db, TESTING=False)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    client = signed_in(app, "root")
    page = client.get("/boom-for-test")
    assert page.status_code == 500 and "cb-topbar" in text(page) and "Nothing was saved" in text(page)


def test_explain_speaks_german(app, db, root):
    users.create_group(db, SYSTEM, "Juniors")
    users.add_member(db, SYSTEM, "sam", "Juniors")
    rights.save_rule_view(db, SYSTEM, "Juniors", "deal", "Unlikely", {"field": "probability", "op": "lt", "value": 50})
    small = RecordStore(db).create(SYSTEM, "deal", {"title": "small", "probability": 10})["id"]
    root.post("/account/language", data={"language": "de"})
    page = text(root.get("/admin/explain", query_string={"user": users.find_user(db, "sam").id, "object": "deal",
                                                          "record": small}))
    assert "Regelansicht „Unlikely“ der Gruppe „Juniors“ (read) trifft den Datensatz" in page
    assert "verweigert:" in page  # edit and delete are denied, and say why in German
