"""Issue 14, point 8, in the configurator: the German labels of a choice field's choices
are edited beside its German label; saving the field keeps them (and drops those of
choices that were removed) instead of wiping them."""
from __future__ import annotations

import lxml.html
from designer_testlib import client_for, designer_app

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService

import pytest


@pytest.fixture
def root(db):
    return client_for(designer_app(db), "root")


def form_values(client, url: str) -> list[tuple[str, str]]:
    doc = lxml.html.fromstring(client.get(url).get_data(as_text=True))
    form = next(f for f in doc.forms if f.xpath('.//*[@name="label_de"]'))
    return [(k, v) for k, v in form.form_values()]


def post(client, url: str, values: list[tuple[str, str]], **changes):
    data: dict[str, list[str]] = {}
    for key, value in values:
        data.setdefault(key, []).append(value)
    for key, value in changes.items():
        data[key] = [value]
    return client.post(url, data=data)


URL = "/designer/objects/deal/fields/stage"


def stage(db):
    return db.schema().object("deal").field("stage")


def test_german_choice_labels_are_edited_and_kept(root, db):
    values = form_values(root, URL)
    names = [k for k, _v in values]
    assert "choice_de-lead" in names and "choice_de-won" in names
    response = post(root, URL, values, **{"choice_de-won": "Gewonnen", "choice_de-lead": "Interessent"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert stage(db).ftype.format(stage(db), "won", "de") == "Gewonnen"
    # the form shows them again, and saving something else keeps them
    values = form_values(root, URL)
    assert ("choice_de-won", "Gewonnen") in values
    assert post(root, URL, values, label="Phase of deal").status_code == 302
    assert stage(db).label == "Phase of deal" and stage(db).ftype.format(stage(db), "lead", "de") == "Interessent"


def test_labels_set_elsewhere_survive_a_designer_save_and_removed_choices_lose_theirs(root, db):
    SchemaService(db).set_translations(SYSTEM, "deal", {"de": {"label": "Phase", "choice.won": "Gewonnen",
                                                               "choice.lead": "Interessent"}}, "stage")
    values = [(k, v) for k, v in form_values(root, URL) if not k.startswith("choice_de-")]  # an older form
    assert post(root, URL, values, help_text="Where the deal stands").status_code == 302
    assert stage(db).translations["de"] == {"label": "Phase", "choice.won": "Gewonnen", "choice.lead": "Interessent"}
    # remove the choice "lead": its German label goes with it, the rest stays
    values = form_values(root, URL)
    rows = [(k, v) for k, v in values if k in ("choice_value", "choice_label", "choice_color")]
    kept: list[tuple[str, str]] = []
    skip = False
    for key, value in rows:
        if key == "choice_value":
            skip = value == "lead"
        if not skip:
            kept.append((key, value))
    others = [(k, v) for k, v in values if k not in ("choice_value", "choice_label", "choice_color")]
    response = post(root, URL, [(k, v) for k, v in others if k != "default"] + kept, default="won")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert [c["value"] for c in stage(db).options["choices"]] == ["won"]
    assert stage(db).translations["de"] == {"label": "Phase", "choice.won": "Gewonnen"}
