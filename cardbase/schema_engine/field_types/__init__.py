"""The field-type registry. Importing this package registers every built-in type; a new
type is one more module here with one ``@register``-ed class."""
from __future__ import annotations

from . import registry, base  # noqa: F401  (registry first: the types register into it)
from . import string  # noqa: F401
from . import (  # noqa: F401
    autonumber,
    boolean,
    choice,
    date,
    datetime_type,
    decimal,
    email,
    formula,
    integer,
    link,
    links,
    lookup,
    money,
    multi_choice,
    phone,
    rollup,
    system,
    text,
    url,
    user,
)
from .base import ColumnSpec, FieldType, FieldValueError
from .registry import all_types, get_type, register

__all__ = ["ColumnSpec", "FieldType", "FieldValueError", "all_types", "get_type", "register"]
