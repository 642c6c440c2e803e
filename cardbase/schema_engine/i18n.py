"""The engine's messages in the reader's language.

The engine knows no web framework, so the channel says whose language is in force: the
web layer installs the request's gettext translations with ``use_language`` (Flask-Babel's,
from the user's language) and resets them after the request; a script, the CLI, a worker
and the REST API (whose messages are part of its contract) read English. Messages are
marked with ``_`` like the interface's own strings, so `make messages` extracts them into
the same catalogue, and a test checks that each has its German translation.
"""
from __future__ import annotations

import gettext
from contextvars import ContextVar, Token
from typing import Any, NamedTuple


class Language(NamedTuple):
    code: str
    translations: gettext.NullTranslations


ENGLISH = Language("en", gettext.NullTranslations())
_current: ContextVar[Language] = ContextVar("cardbase_language", default=ENGLISH)


def _(message: str, **params: Any) -> str:
    """``message`` translated, then filled with ``params`` (``%(name)s`` placeholders)."""
    text = _current.get().translations.gettext(message)
    return text % params if params else text


def language() -> str:
    """The code of the language in force ("en", "de"): for labels kept per language."""
    return _current.get().code


def use_language(code: str, translations: gettext.NullTranslations) -> Token:
    """Messages from now on in ``code``; pass the token to ``reset_language`` when done."""
    return _current.set(Language(code, translations))


def reset_language(token: Token) -> None:
    try:
        _current.reset(token)
    except ValueError:  # the token came from another context (a server's thread reused): start over
        _current.set(ENGLISH)


def right_verb(right: str) -> str:
    """A right's name as the verb of a sentence ("you may not edit Deals")."""
    verbs = {"read": _("read"), "create": _("create"), "edit": _("edit"), "delete": _("delete"),
             "export": _("export"), "print": _("print"), "report": _("report on"), "configure": _("configure")}
    return verbs.get(right, right)
