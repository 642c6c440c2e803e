"""Languages of the user interface (Flask-Babel): English and German.

The interface language is the user's own (cb_user.language), else the browser's. The
message catalogues are kept as ``.po`` sources in ``platform/translations``; they are
compiled to ``.mo`` when the app starts (into a cache directory keyed by their content),
so no generated file is ever committed and a changed catalogue takes effect on restart.
Object and field labels translate through the metadata (``label_in``), not through gettext.
The engine's own messages (a value that does not fit a field, a refused right) are in the
same catalogue: each browser request hands its translations to the engine
(``schema_engine.i18n.use_language``); the REST API keeps English, its messages being part
of the API's contract.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user

from cardbase.schema_engine import i18n as engine_i18n

LANGUAGES = ("en", "de")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
SOURCE_DIR = Path(__file__).parent / "translations"

babel = Babel()


def current_language() -> str:
    """The language of this request: the user's, else the browser's best match, else English."""
    if current_user and current_user.is_authenticated:
        language = getattr(current_user.row, "language", None)
        if language in LANGUAGES:
            return language
    if request:
        return request.accept_languages.best_match(LANGUAGES) or "en"
    return "en"


def compiled_catalogues(source: Path = SOURCE_DIR) -> Path:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` below ``source`` into a directory named
    after their content; workers starting together write the same bytes (atomic rename)."""
    sources = sorted(source.glob("*/LC_MESSAGES/*.po"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"cardbase-i18n-{digest}"
    for po in sources:
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists():
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
    return target


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled_catalogues())
    babel.init_app(app, locale_selector=current_language,
                   timezone_selector=lambda: app.config.get("CARDBASE_TIMEZONE") or "UTC")
    app.jinja_env.globals.update(current_language=lambda: str(get_locale() or "en"),
                                 LANGUAGE_NAMES=LANGUAGE_NAMES)
    app.before_request(_engine_language)
    app.teardown_request(_reset_engine_language)


def _engine_language() -> None:
    if request.blueprint and request.blueprint.split(".")[0] == "api":
        return
    g.cardbase_language_token = engine_i18n.use_language(str(get_locale() or "en"), get_translations())


def _reset_engine_language(_error: BaseException | None = None) -> None:
    token = g.pop("cardbase_language_token", None)
    if token is not None:
        engine_i18n.reset_language(token)
