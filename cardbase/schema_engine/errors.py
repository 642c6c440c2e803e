"""Errors every channel can turn into a clear message: each names the field and the problem."""
from __future__ import annotations

from typing import Any, Mapping


class CardbaseError(Exception):
    """Base for every error the engine raises on purpose."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message}


class ValidationError(CardbaseError):
    """Input was wrong. ``errors`` maps a field (or option) name to a list of messages."""

    status = 422

    def __init__(self, errors: Mapping[str, list[str] | str], message: str | None = None):
        norm = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}
        self.errors: dict[str, list[str]] = norm
        text = message or "; ".join(f"{k}: {' '.join(v)}" for k, v in norm.items())
        super().__init__(text)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": self.errors}


class SchemaError(ValidationError):
    """A configuration change was refused (bad name, bad option, unsafe change)."""


class NotFound(CardbaseError):
    status = 404


class Conflict(CardbaseError):
    """Optimistic lock failed: the record changed since the caller read it."""

    status = 409

    def __init__(self, message: str, current: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.current = dict(current) if current is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "current": self.current}


class InUse(CardbaseError):
    """Something still uses the object, field or record; ``usages`` lists what."""

    status = 409

    def __init__(self, message: str, usages: list[str]):
        super().__init__(message + ": " + "; ".join(usages))
        self.usages = usages

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "usages": self.usages}


class ConversionRefused(CardbaseError):
    """A field type change would lose data; ``failures`` lists (record, value, reason) of
    the records the actor may read, ``hidden`` counts the failures in records they may not
    (those are never listed)."""

    status = 409

    def __init__(self, message: str, failures: list[dict[str, Any]], total: int, hidden: int = 0):
        super().__init__(message)
        self.failures = failures
        self.total = total
        self.hidden = hidden

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "failures": self.failures, "total": self.total,
                "hidden_failures": self.hidden}


class Forbidden(CardbaseError):
    status = 403
