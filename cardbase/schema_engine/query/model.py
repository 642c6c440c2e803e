"""The shapes of read requests and their answers, validated on construction so every
channel (UI, API, reports) gets the same clear errors for the same bad input."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
MAX_FIELDS = 100
MAX_SEARCH = 200
MAX_GROUP_BY = 5
MAX_METRICS = 20


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class ListQuery:
    """One page of a list: filter tree, sort spec, page size and position, search text,
    the fields to return (paths allowed) and whether to list the trash instead."""

    filter: dict | None = None
    sort: str | list[str] | None = None
    limit: int = 50
    offset: int | None = None
    cursor: str | None = None
    search: str | None = None
    fields: list[str] | None = None
    trash: bool = False

    def __post_init__(self) -> None:
        if not _is_int(self.limit) or not 1 <= self.limit <= MAX_LIMIT:
            raise ValidationError({"limit": f"must be a whole number from 1 to {MAX_LIMIT}"})
        if self.offset is not None and (not _is_int(self.offset) or not 0 <= self.offset <= MAX_OFFSET):
            raise ValidationError({"offset": f"must be a whole number from 0 to {MAX_OFFSET}"})
        if self.cursor is not None:
            if not isinstance(self.cursor, str):
                raise ValidationError({"cursor": "is not valid"})
            if self.offset:
                raise ValidationError({"cursor": "cannot be combined with an offset"})
        if self.filter is not None and not isinstance(self.filter, dict):
            raise ValidationError({"filter": "must be a condition object like "
                                             '{"field": "name", "op": "eq", "value": "x"}'})
        if self.sort is not None and not isinstance(self.sort, (str, list, tuple)):
            raise ValidationError({"sort": 'must be a text like "-amount,name" or a list of field paths'})
        if self.search is not None:
            if not isinstance(self.search, str):
                raise ValidationError({"search": "must be a text"})
            if len(self.search) > MAX_SEARCH:
                raise ValidationError({"search": f"is {len(self.search)} characters long; "
                                                 f"at most {MAX_SEARCH} are allowed"})
        if self.fields is not None:
            if not isinstance(self.fields, (list, tuple)) or not all(isinstance(f, str) for f in self.fields):
                raise ValidationError({"fields": "must be a list of field paths"})
            if len(self.fields) > MAX_FIELDS:
                raise ValidationError({"fields": f"lists {len(self.fields)} fields; at most {MAX_FIELDS} are allowed"})
        if not isinstance(self.trash, bool):
            raise ValidationError({"trash": "must be true or false"})


@dataclass
class Page:
    """Records of one page. ``next_cursor`` is set when more rows follow (cursor paging);
    ``has_more`` says the same for offset paging. ``count`` is -1 when not asked for."""

    data: list[dict]
    next_cursor: str | None
    count: int
    count_is_estimate: bool
    has_more: bool = False


@dataclass
class AggregateQuery:
    """Grouped figures: ``group_by`` items are paths ("stage", "organisation.city") or
    {"field": path, "bucket": "month"} for dates; ``metrics`` are {"op": "count"} or
    {"op": "sum"|"avg"|"min"|"max", "field": path}. Either may carry "as" to name the
    result key. More than ``limit`` groups is refused rather than silently cut."""

    group_by: list[str | dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=lambda: [{"op": "count"}])
    filter: dict | None = None
    search: str | None = None
    limit: int = 10_000

    def __post_init__(self) -> None:
        if not isinstance(self.group_by, (list, tuple)):
            raise ValidationError({"group_by": "must be a list of field paths"})
        if len(self.group_by) > MAX_GROUP_BY:
            raise ValidationError({"group_by": f"has {len(self.group_by)} items; at most {MAX_GROUP_BY} are allowed"})
        if not isinstance(self.metrics, (list, tuple)):
            raise ValidationError({"metrics": 'must be a list like [{"op": "count"}]'})
        if len(self.metrics) > MAX_METRICS:
            raise ValidationError({"metrics": f"has {len(self.metrics)} items; at most {MAX_METRICS} are allowed"})
        if not self.group_by and not self.metrics:
            raise ValidationError({"metrics": "give at least one metric or one group"})
        if self.filter is not None and not isinstance(self.filter, dict):
            raise ValidationError({"filter": "must be a condition object"})
        if self.search is not None and (not isinstance(self.search, str) or len(self.search) > MAX_SEARCH):
            raise ValidationError({"search": f"must be a text of at most {MAX_SEARCH} characters"})
        if not _is_int(self.limit) or not 1 <= self.limit <= 100_000:
            raise ValidationError({"limit": "must be a whole number from 1 to 100000"})
