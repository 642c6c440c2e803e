"""Issue 18, point 7: public web forms -- a subset of fields, fixed hidden values, records
created through the pipeline as the form's actor, honeypot, rate limit, size limits,
fields that are not on the form, and the signed-in operator."""
from __future__ import annotations

import pytest
from automation_testlib import actor, crm, sales_group

from cardbase.automation import forms
from cardbase.schema_engine.errors import Forbidden, ValidationError


@pytest.fixture
def setup(db):
    store = crm(db)
    sales_group(db, rights=("read", "create"))
    root, sam = actor(db, "root"), actor(db, "sam")
    with store.session(root, write=True) as tx:
        form = forms.create(tx, {"slug": "contact-us", "title": "Contact us", "object": "deal",
                                 "fields": ["title", "probability"], "fixed": {"stage": "review"},
                                 "confirmation": "Thank you!", "actor": "sam"})
    return store, root, sam, form


def test_a_post_creates_the_record_as_the_forms_actor_with_the_fixed_values(db, setup):
    store, root, sam, form = setup
    assert form["url"] == "/f/contact-us"
    answer = forms.submit(store, "contact-us", {"title": "Website lead", "probability": " 20 "}, "203.0.113.9")
    assert answer["confirmation"] == "Thank you!" and answer["dropped"] is False
    record = store.get(root, "deal", answer["id"])
    assert (record["title"], record["probability"], record["stage"]) == ("Website lead", 20, "review")
    assert store.history(root, "deal", answer["id"])[0]["actor"]["username"] == "sam"


def test_fields_not_on_the_form_are_refused_even_the_fixed_ones(db, setup):
    store, root, sam, form = setup
    for extra in ({"secret_note": "x"}, {"stage": "won"}, {"id": "7"}):
        with pytest.raises(ValidationError) as refused:
            forms.submit(store, "contact-us", {"title": "Lead", **extra}, "203.0.113.10")
        assert refused.value.errors == {next(iter(extra)): ["is not on this form"]}
    assert store.list(root, "deal").data == []


def test_the_honeypot_drops_a_bot_post_without_telling_it(db, setup):
    store, root, sam, form = setup
    answer = forms.submit(store, "contact-us", {"title": "Buy pills", forms.HONEYPOT: "http://spam"}, "198.51.100.1")
    assert answer["dropped"] is True and answer["confirmation"] == "Thank you!"
    assert store.list(root, "deal").data == []


def test_a_flood_from_one_address_is_stopped_and_others_go_on(db, setup):
    store, root, sam, form = setup
    for i in range(forms.RATE_LIMIT):
        forms.submit(store, "contact-us", {"title": f"Lead {i}"}, "192.0.2.7")
    with pytest.raises(forms.RateLimited) as limited:
        forms.submit(store, "contact-us", {"title": "One too many"}, "192.0.2.7")
    assert limited.value.status == 429 and limited.value.retry_after == 600
    forms.submit(store, "contact-us", {"title": "Someone else"}, "192.0.2.8")
    assert len(store.list(root, "deal").data) == forms.RATE_LIMIT + 1


def test_size_limits_and_bad_values_are_named(db, setup):
    store, root, sam, form = setup
    with pytest.raises(ValidationError) as long:
        forms.submit(store, "contact-us", {"title": "x" * (forms.MAX_VALUE + 1)}, "192.0.2.20")
    assert "at most 5000 characters" in long.value.errors["title"][0]
    with pytest.raises(ValidationError) as many:
        forms.submit(store, "contact-us", {f"f{i}": "x" for i in range(60)}, "192.0.2.21")
    assert "too many fields" in many.value.errors["form"][0]
    with pytest.raises(ValidationError) as typed:
        forms.submit(store, "contact-us", {"title": "Lead", "probability": "lots"}, "192.0.2.22")
    assert "probability" in typed.value.errors
    with pytest.raises(ValidationError) as missing:
        forms.submit(store, "contact-us", {"probability": "5"}, "192.0.2.23")
    assert "title" in missing.value.errors


def test_a_signed_in_operator_posts_as_themselves(db, setup):
    store, root, sam, form = setup
    answer = forms.submit(store, "contact-us", {"title": "Phone call"}, "10.0.0.5", operator=root)
    assert store.history(root, "deal", answer["id"])[0]["actor"]["username"] == "root"


def test_the_forms_actor_needs_the_create_right(db, setup):
    store, root, sam, form = setup
    with store.session(root, write=True) as tx:
        forms.create(tx, {"slug": "orgs", "title": "Organisations", "object": "organisation", "fields": ["name"],
                          "actor": "sam"})
    with pytest.raises(Forbidden):
        forms.submit(store, "orgs", {"name": "Acme"}, "192.0.2.30")


@pytest.mark.parametrize("change, field", [
    ({"slug": "Has Spaces"}, "slug"), ({"slug": "contact-us"}, "slug"), ({"object": "nothing"}, "object"),
    ({"fields": ["nope"]}, "fields"), ({"fields": ["created_at"]}, "fields"), ({"fixed": {"nope": 1}}, "fixed"),
    ({"fixed": {"title": "x"}}, "fixed"), ({"redirect_url": "javascript:alert(1)"}, "redirect_url"),
    ({"colour": "red"}, "colour"),
])
def test_bad_form_settings_name_the_setting(db, setup, change, field):
    store, root, sam, form = setup
    spec = {"slug": "other", "title": "Other", "object": "deal", "fields": ["title"], **change}
    with store.session(root, write=True) as tx, pytest.raises(ValidationError) as refused:
        forms.create(tx, spec)
    assert field in refused.value.errors
