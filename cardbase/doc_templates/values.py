"""What a template sees of a record: its fields by API name, links as records, child
lists as lists of records -- and nothing else (no methods, no attributes a template could
climb through)."""
from __future__ import annotations

from typing import Any, Iterator, Mapping


class Record:
    """One record for a template: ``record.field`` / ``record["field"]``. Printed bare it
    shows its display value (the client's name)."""

    __slots__ = ("_values", "_display")

    def __init__(self, values: Mapping[str, Any], display: str):
        self._values = dict(values)
        self._display = display

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:  # `{% for name in record %}`: its field names
        return iter(self._values)

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return self._display

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Record {self._display!r}>"


class EmptyRecord(Record):
    """An empty link: every field of it is empty, it prints as nothing and is false, so
    ``{{ order.client.phone }}`` with no client gives an empty text, not an error."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__({}, "")

    def __getitem__(self, name: str) -> Any:
        return EMPTY

    def __bool__(self) -> bool:
        return False


EMPTY = EmptyRecord()


def is_empty(value: Any) -> bool:
    return value is None or value is EMPTY
