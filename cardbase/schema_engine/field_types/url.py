"""Web addresses. Only http and https: a stored ``javascript:`` or ``data:`` link would run
script when someone clicks it on a card. A bare "example.com" gets "https://"."""
from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from .base import TEXTUAL, FieldType, FieldValueError
from .decimal import shown
from .registry import register
from .options import _l
from ..i18n import _

MAX_URL = 2048
SCHEMES = frozenset({"http", "https"})
_WITH_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_OTHER_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")  # "mailto:", not "host:8080"
_VALIDATE = ma.validate.URL(schemes=set(SCHEMES), require_tld=True)


def normalise_url(raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(_('must be a web address, not %(value)s', value=shown(raw)))
    text = raw.strip()
    if len(text) > MAX_URL:
        raise FieldValueError(_('is %(length)s characters long; at most %(max_url)s are allowed',
                                length=len(text), max_url=MAX_URL))
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise FieldValueError(_('%(value)s is not a web address: it contains spaces or control characters', value=shown(raw)))
    m = _WITH_SCHEME.match(text)
    if m:
        if m.group(1).lower() not in SCHEMES:
            raise FieldValueError(_('%(value)s: only http and https addresses are allowed', value=shown(raw)))
        text = m.group(1).lower() + text[len(m.group(1)):]
    elif _OTHER_SCHEME.match(text):
        raise FieldValueError(_('%(value)s: only http and https addresses are allowed', value=shown(raw)))
    else:
        text = "https://" + text
    if len(text) > MAX_URL:
        raise FieldValueError(_('is longer than %(max_url)s characters', max_url=MAX_URL))
    try:
        _VALIDATE(text)
    except ma.ValidationError:
        raise FieldValueError(_('%(value)s is not a valid web address (expected e.g. https://example.com)',
                                value=shown(raw))) from None
    return text


@register
class UrlType(FieldType):
    """A link to a web page."""

    name = "url"
    label = _l("Web address")
    operators = TEXTUAL
    searchable = True

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.String(MAX_URL)

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.URL(allow_none=True, schemes=set(SCHEMES))

    def parse(self, field, raw: Any) -> str | None:
        return None if self.is_empty(raw) else normalise_url(raw)

    def to_json(self, field, value: str | None) -> str | None:
        return value
