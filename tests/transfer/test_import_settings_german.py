"""The import settings document's errors go through the engine's i18n: a German reader
(the wizard) gets each problem in German, named by its key; English stays the default."""
from __future__ import annotations

import pytest
from babel.support import Translations

from cardbase.platform.i18n import compiled_catalogues
from cardbase.schema_engine import i18n
from cardbase.schema_engine.errors import ValidationError
from cardbase.transfer.importer import ImportSettings

BAD = {"mapping": [1], "mode": "merge", "key": 5, "locale": "xx", "region": "ZZ", "header_row": 0,
       "duplicate_rules": "email", "duplicate_actions": {"g": "burn"}, "duplicate_default": "burn", "atomic": "yes"}


def _errors(document) -> dict:
    with pytest.raises(ValidationError) as caught:
        ImportSettings.from_json(document)
    return {k: " ".join(v) for k, v in caught.value.errors.items()}


def test_settings_errors_in_german():
    german = Translations.load(str(compiled_catalogues()), ["de"], domain="messages")
    token = i18n.use_language("de", german)
    try:
        errors = _errors(BAD)
        assert _errors([]) == {"settings": "muss ein Objekt sein"}
    finally:
        i18n.reset_language(token)
    assert set(errors) == set(BAD)
    assert errors["mode"] == "muss eines von create, update, upsert sein"
    assert errors["mapping"] == "muss ein Objekt aus Spaltenname -> Feldname sein"
    assert errors["region"] == "'ZZ' ist keine Region: zweistelliger Ländercode wie DE, AT, US"
    assert errors["header_row"] == "muss die Zeilennummer der Kopfzeile sein (1 oder mehr)"
    assert errors["atomic"].startswith("muss true (alles oder nichts)")
    assert errors["duplicate_rules"].startswith("muss eine Liste von Feldlisten sein")
    assert errors["duplicate_actions"].startswith("muss Gruppenschlüssel einem von")
    for key in ("key", "locale", "duplicate_default"):
        assert errors[key].startswith("muss "), (key, errors[key])


def test_settings_errors_stay_english_by_default():
    errors = _errors(BAD)
    assert errors["mode"] == "must be one of create, update, upsert"
    assert errors["region"].startswith("'ZZ' is not a region")
