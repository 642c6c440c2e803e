"""The field-type registry: type name -> the one instance that owns the type."""
from __future__ import annotations

from typing import TypeVar

from ..errors import SchemaError
from .base import FieldType

_TYPES: dict[str, FieldType] = {}
T = TypeVar("T", bound=type[FieldType])


def register(cls: T) -> T:
    """Class decorator: make a field type available by its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in _TYPES:
        raise TypeError(f"field type '{cls.name}' registered twice")
    _TYPES[cls.name] = cls()
    return cls


def get_type(name: str) -> FieldType:
    try:
        return _TYPES[name]
    except KeyError:
        known = ", ".join(sorted(n for n, t in _TYPES.items() if not t.system_only))
        raise SchemaError({"type": f"unknown field type '{name}'; known types: {known}"}) from None


def all_types() -> dict[str, FieldType]:
    return dict(_TYPES)
