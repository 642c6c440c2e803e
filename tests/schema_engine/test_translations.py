"""Object and field labels in other languages: set, read through the snapshot, carried by
solutions, cleaned with their object or field, and refused when malformed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import Actor, SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, SchemaError
from cardbase.schema_engine.meta_models import ConfigChange, Translation
from cardbase.schema_engine.solution import export_solution, import_solution

from crm_fixture import crm


def test_labels_per_language_fall_back_to_the_base_label(db):
    svc, _ = crm(db)
    version = db.schema().version
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"}})
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Ort", "help_text": "Wo die Firma sitzt"}}, "city")
    schema = db.schema()
    assert schema.version > version  # other workers reload
    org = schema.object("organisation")
    assert (org.label_in("de"), org.label_plural_in("de")) == ("Firma", "Firmen")
    assert (org.label_in("en"), org.label_plural_in(None)) == ("Organisation", "Organisations")
    city, name = org.field("city"), org.field("name")
    assert (city.label_in("de"), city.help_in("de")) == ("Ort", "Wo die Firma sitzt")
    assert city.label_in("en") == "City" and name.label_in("de") == "Name"
    with db.read() as conn:
        actions = [r.action for r in conn.execute(sa.select(ConfigChange.action))]
    assert actions.count("set_translations") == 2


def test_setting_again_replaces_and_empty_texts_fall_back(db):
    svc, _ = crm(db)
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"}})
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Unternehmen", "label_plural": ""}})
    org = db.schema().object("organisation")
    assert (org.label_in("de"), org.label_plural_in("de")) == ("Unternehmen", "Organisations")
    svc.set_translations(SYSTEM, "organisation", {})
    assert db.schema().object("organisation").label_in("de") == "Organisation"


@pytest.mark.parametrize("texts, key", [
    ({"fr": {"label": "Société"}}, "translations.fr"),
    ({"de": {"colour": "rot"}}, "translations.de.colour"),
    ({"de": {"label": "x" * 500}}, "translations.de.label"),
    ({"de": "Firma"}, "translations.de"),
    (["de"], "translations"),
])
def test_bad_translations_are_refused_and_change_nothing(db, texts, key):
    svc, _ = crm(db)
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Firma"}})
    with pytest.raises(SchemaError) as info:
        svc.set_translations(SYSTEM, "organisation", texts)
    assert key in info.value.errors
    assert db.schema().object("organisation").label_in("de") == "Firma"


def test_a_field_only_translates_label_and_help(db):
    svc, _ = crm(db)
    with pytest.raises(SchemaError) as info:
        svc.set_translations(SYSTEM, "organisation", {"de": {"label_plural": "Orte"}}, "city")
    assert "translations.de.label_plural" in info.value.errors


def test_translating_needs_the_configure_right(db):
    svc, _ = crm(db)
    nobody = Actor(user_id=99, username="nobody", group_ids=frozenset(), is_admin=False)
    with pytest.raises(Forbidden):
        svc.set_translations(nobody, "organisation", {"de": {"label": "Firma"}})


def test_removing_a_field_or_object_removes_its_translations(db):
    svc, _ = crm(db)
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Ort"}}, "city")
    svc.remove_field(SYSTEM, "organisation", "city")
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Translation)).scalar_one() == 0
    svc.set_translations(SYSTEM, "deal", {"de": {"label": "Geschäft"}})
    svc.delete_object(SYSTEM, "deal")
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Translation)).scalar_one() == 0


def test_solutions_carry_the_translations(db, make_database, engine_name):
    svc, _ = crm(db)
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"}})
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Ort"}}, "city")
    document = export_solution(db)
    assert {"object": "organisation", "field": None, "language": "de", "label": "Firma",
            "label_plural": "Firmen"} in document["translations"]
    assert {"object": "organisation", "field": "city", "language": "de", "label": "Ort"} in document["translations"]
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        import_solution(other, document)
        org = other.schema().object("organisation")
        assert org.label_plural_in("de") == "Firmen" and org.field("city").label_in("de") == "Ort"
        bad = {**document, "translations": [{"object": "organisation", "field": "nope", "language": "de", "label": "X"}]}
        with pytest.raises(SchemaError) as info:
            import_solution(other, bad)
        assert "translations[0].field" in info.value.errors
    finally:
        other.dispose()
