"""Which passwords are refused, and why (OWASP ASVS 2.1: no common or trivial passwords).

No third-party list of leaked passwords is bundled. Instead these rules, written here,
refuse what online guessing tries first; each refusal names its rule, in the reader's
language (``i18n._``):

* shorter than MIN_LENGTH (10) characters;
* one character repeated, or a short pattern of up to 4 characters repeated
  ("aaaaaaaaaa", "          ", "abababababab");
* a simple sequence: a stretch of the alphabet, the digits or a keyboard row, forwards or
  backwards, alone or with digits and symbols around it ("1234567890", "abcdefghij",
  "qwertzuiop", "qwerty2024!");
* a notorious word -- the short hand-written list NOTORIOUS below (password, passwort,
  letmein, welcome, admin, cardbase, ...) -- alone, repeated, with simple letter
  substitutions (p@ssw0rd) or with digits and symbols added ("Password123!");
* equal to or containing the username, the display name (or a word of it) or the local
  part of the e-mail address (ignoring case; parts shorter than 3 characters are ignored).
"""
from __future__ import annotations

import re

from ..i18n import _

MIN_LENGTH = 10

# Hand-written: the words every guessing tool tries first (English and German).
NOTORIOUS = frozenset({
    "password", "passwort", "pass", "passw", "pwd", "letmein", "welcome", "willkommen", "admin",
    "administrator", "root", "cardbase", "secret", "geheim", "qwerty", "qwertz", "login", "master",
    "dragon", "monkey", "iloveyou", "football", "fussball", "baseball", "sunshine", "princess",
    "hallo", "hello", "test", "changeme", "default", "user", "guest", "trustno", "superman",
})

_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "1234567890", "qwertyuiop", "qwertzuiop",
              "asdfghjkl", "yxcvbnm", "zxcvbnm", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"})
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
_SEPARATORS = re.compile(r"[\s._\-]+")


def _is_sequence(text: str) -> bool:
    if len(text) < 3:
        return False
    for sequence in _SEQUENCES:
        for candidate in (sequence, sequence[::-1]):
            if text in candidate * (len(text) // len(candidate) + 2):
                return True
    return False


def _is_repetition(text: str) -> bool:
    return any(len(text) > size and (text[:size] * (len(text) // size + 1))[:len(text)] == text
               for size in range(1, 5))


def _personal_parts(username: str | None, display_name: str | None, email: str | None) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    if username:
        parts.append((username.casefold(), "username"))
    if email and "@" in email:
        parts.append((email.split("@", 1)[0].casefold(), "email"))
    if display_name:
        parts.append((display_name.casefold(), "name"))
        parts += [(word, "name") for word in re.split(r"[\W_]+", display_name.casefold())]
    return [(text, kind) for text, kind in parts if len(text) >= 3]


def password_problem(password: str, *, username: str | None = None, display_name: str | None = None,
                     email: str | None = None) -> str | None:
    """Why ``password`` is refused (one sentence naming the rule), or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return _("is %(n)s characters long; at least %(min)s are needed", n=len(password), min=MIN_LENGTH)
    lowered = password.casefold()
    if _is_repetition(lowered):
        return _("repeats one character or a short pattern; choose a longer, less regular password")
    compact = _SEPARATORS.sub("", lowered)
    core = _EDGES.sub("", lowered)
    if _is_sequence(compact) or (len(core) >= 4 and _is_sequence(_SEPARATORS.sub("", core))):
        return _("is a simple sequence (like 1234…, abcd… or qwerty…); choose a less predictable password")
    for word in {core, core.translate(_LEET), _SEPARATORS.sub("", core), _SEPARATORS.sub("", core.translate(_LEET))}:
        if word in NOTORIOUS or any(len(word) % len(w) == 0 and word == w * (len(word) // len(w))
                                    for w in NOTORIOUS if w and word):
            return _("is a commonly used password (a well-known word with digits or symbols added); "
                     "choose one that is harder to guess")
    for text, kind in _personal_parts(username, display_name, email):
        if text in lowered:
            if kind == "username":
                return _("must not contain your username")
            if kind == "name":
                return _("must not contain your name")
            return _("must not contain your e-mail address")
    return None
