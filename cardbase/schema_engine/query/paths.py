"""Field paths ("order.client.city") and the joins that reach them.

A path is a chain of API names; every step but the last must be a link field. One
statement gets one ``JoinBuilder``, which adds a single aliased LEFT OUTER JOIN per
distinct chain prefix, so "organisation.city", "organisation.name" and the display value
of "organisation" share one join. Links are many-to-one, so these joins never multiply
rows: a page, a count and a GROUP BY stay correct whatever paths they touch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from ..errors import ValidationError
from ..field_types.link import LinkType
from ..field_types.user import UserType
from ..meta_models import User
from ..snapshot import FieldInfo, ObjectInfo, Schema

MAX_HOPS = 3
MAX_PATH = 4 * 64 + 3  # four API names and their dots

FieldAllowed = Callable[[FieldInfo], bool]
# Rights on a link's target: (target, alias name) -> (the alias to join, the rows of it the
# reader may see, or None for all). The rights may hand out the same alias object again
# for the same reader, with its filter already built.
LinkFilter = Callable[[ObjectInfo, str], "tuple[FromClause, ColumnElement | None]"]


def is_link(field: FieldInfo) -> bool:
    """A link to a record of another object (paths may cross it)."""
    return isinstance(field.ftype, LinkType)


def is_user(field: FieldInfo) -> bool:
    """A reference to a cb_user row: user fields, owner, created_by, modified_by."""
    return isinstance(field.ftype, UserType)


def column_names(field: FieldInfo) -> tuple[str, ...]:
    """Physical columns of a field (system fields have exactly their own column; a field
    stored apart -- a multi-link -- is reached through the record's id)."""
    if field.system:
        return (field.column,)
    return ("id",) if field.ftype.stored_apart else field.column_names


@dataclass(frozen=True)
class Path:
    """A resolved path: the final field and the link fields crossed to reach it."""

    text: str
    field: FieldInfo
    links: tuple[FieldInfo, ...] = ()

    @cached_property
    def kind(self) -> str:
        """"link", "user", "links" (several, read apart) or "value": how the value is read
        and shown (asked per cell)."""
        if self.field.ftype.stored_apart:
            return "links"
        return "link" if is_link(self.field) else "user" if is_user(self.field) else "value"


def unknown_field(key: str, path: str, obj: ObjectInfo, name: str) -> ValidationError:
    """The one error for a field that does not exist *or* is hidden from the reader, so a
    hidden field's existence cannot be inferred from the message."""
    return ValidationError({key: f"'{path}': object '{obj.api_name}' has no field '{name}'"})


def resolve(schema: Schema, obj: ObjectInfo, path: Any, *, field_allowed: FieldAllowed | None = None,
            key: str = "fields") -> Path:
    """Resolve ``path`` from ``obj``; errors (under ``key``) name the path and the object."""
    if not isinstance(path, str) or not path:
        raise ValidationError({key: f"a field path must be a non-empty text, not {type(path).__name__}"})
    if len(path) > MAX_PATH:
        raise ValidationError({key: f"'{path[:40]}…': a field path is at most {MAX_PATH} characters long"})
    steps = path.split(".")
    if len(steps) > MAX_HOPS + 1:
        raise ValidationError({key: f"'{path}': a path may cross at most {MAX_HOPS} links"})
    current, links = obj, []
    field: FieldInfo | None = None
    for i, name in enumerate(steps):
        field = current.fields_by_name.get(name)
        if field is None or (field_allowed is not None and not field_allowed(field)):
            raise unknown_field(key, path, current, name)
        if i < len(steps) - 1:
            if not is_link(field):
                raise ValidationError({key: f"'{path}': field '{name}' of object '{current.api_name}' "
                                            "is not a link, so the path cannot go on from it"})
            links.append(field)
            current = schema.link_target(field)
    assert field is not None
    return Path(path, field, tuple(links))


def display_text(field: FieldInfo | None, values: Sequence[Any]) -> str | None:
    """The text a record shows in links, from the raw columns of its display field."""
    if field is None:
        return None
    value = field.ftype.from_db(field, tuple(values))
    if value is None or isinstance(value, str):
        return value
    return field.ftype.format(field, value)


def user_display(users: FromClause) -> ColumnElement:
    """A user's name: display name, else username. The '' is a SQL literal so the same
    expression in SELECT, GROUP BY and ORDER BY is textually identical for PostgreSQL."""
    empty = sa.literal_column("''", type_=sa.String)
    return sa.func.coalesce(sa.func.nullif(users.c.display_name, empty), users.c.username, type_=sa.String)


def shared_alias(schema: Schema, table: sa.Table, name: str) -> FromClause:
    """``table.alias(name)``, made once per schema snapshot: aliases are immutable and can
    serve any number of statements, and building one (a proxy per column) costs more
    than the rest of a single-record read."""
    cache = schema.__dict__.setdefault("_shared_aliases", {})
    key = (table, name)
    alias = cache.get(key)
    if alias is None:
        alias = cache.setdefault(key, table.alias(name))
    return alias


class JoinBuilder:
    """The FROM clause of one statement: the object's table plus the joins its paths need."""

    def __init__(self, schema: Schema, obj: ObjectInfo, *, base: FromClause | None = None,
                 field_allowed: FieldAllowed | None = None, link_filter: LinkFilter | None = None):
        self.schema, self.obj = schema, obj
        self.base = base if base is not None else schema.table(obj)
        self.field_allowed = field_allowed
        # Rights: a joined link target shows only if the reader may see it, so its values
        # (display, paths through it) read as empty and the link as restricted.
        self.link_filter = link_filter
        self._aliases: dict[tuple, FromClause] = {}
        self._joins: list[tuple[FromClause, ColumnElement]] = []
        self._filtered: set[tuple] = set()

    # ---- joins ----------------------------------------------------------------------------
    def table_for(self, links: Sequence[FieldInfo]) -> FromClause:
        """The (aliased) table holding the columns at the end of a chain of link fields."""
        if not links:
            return self.base
        key = ("link",) + tuple(f.id for f in links)
        alias = self._aliases.get(key)
        if alias is None:
            parent = self.table_for(links[:-1])
            target = self.schema.link_target(links[-1])
            name = f"j{len(self._joins) + 1}"
            if self.link_filter is not None:
                alias, visible = self.link_filter(target, name)
            else:
                alias, visible = shared_alias(self.schema, self.schema.table(target), name), None
            on = alias.c.id == parent.c[links[-1].column]
            if visible is not None:
                on = sa.and_(on, visible)
                self._filtered.add(key)
            self._add(key, alias, on)
        return alias

    def visibility_column(self, links: Sequence[FieldInfo]) -> ColumnElement | None:
        """The id of the record at the end of ``links`` as joined, when the rights may hide
        it: NULL there while the link column holds an id means "restricted"."""
        if not links:
            return None
        self.table_for(links)
        key = ("link",) + tuple(f.id for f in links)
        return self._aliases[key].c.id if key in self._filtered else None

    def user_table(self, links: Sequence[FieldInfo], field: FieldInfo) -> FromClause:
        """An aliased cb_user joined on a user-type column (owner, created_by, ...)."""
        key = ("user",) + tuple(f.id for f in links) + (field.key,)
        alias = self._aliases.get(key)
        if alias is None:
            owner = self.table_for(links)
            alias = shared_alias(self.schema, User.__table__, f"u{len(self._joins) + 1}")
            self._add(key, alias, alias.c.id == owner.c[field.column])
        return alias

    def _add(self, key: tuple, alias: FromClause, on: ColumnElement) -> None:
        self._aliases[key] = alias
        self._joins.append((alias, on))

    def from_clause(self) -> FromClause:
        """The base table outer-joined with every alias registered so far."""
        joined: FromClause = self.base
        for alias, on in self._joins:
            joined = joined.outerjoin(alias, on)
        return joined

    @property
    def join_count(self) -> int:
        return len(self._joins)

    # ---- columns of a path -------------------------------------------------------------------
    def columns(self, path: Path) -> list[ColumnElement]:
        table = self.table_for(path.links)
        return [table.c[name] for name in column_names(path.field)]

    def display_field(self, target: ObjectInfo) -> FieldInfo | None:
        """How a linked record names itself: its display field if readable and plain,
        else its Code (always readable unless the rights hide even that)."""
        chosen = target.display_field
        if is_link(chosen) or is_user(chosen) or not self._allowed(chosen):
            chosen = target.fields_by_name["code"]
        return chosen if self._allowed(chosen) else None

    def display_columns(self, path: Path) -> tuple[FieldInfo | None, list[ColumnElement]]:
        """For a link or user path: (display field or None for users, its SQL columns)."""
        if path.kind == "user":
            return None, [user_display(self.user_table(path.links, path.field))]
        target = self.schema.link_target(path.field)
        chosen = self.display_field(target)
        if chosen is None:
            return None, []
        alias = self.table_for(path.links + (path.field,))
        return chosen, [alias.c[name] for name in column_names(chosen)]

    def sort_expression(self, path: Path) -> ColumnElement:
        """What a path sorts and groups by: links by the target's display value (people
        expect "Organisation" sorted by name, not by id), users by their name."""
        if path.kind == "value":
            return path.field.ftype.sort_expression(path.field, self.columns(path))
        chosen, cols = self.display_columns(path)
        if not cols:
            return self.columns(path)[0]
        if chosen is None:
            return cols[0]
        return chosen.ftype.sort_expression(chosen, cols)

    def _allowed(self, field: FieldInfo) -> bool:
        return self.field_allowed is None or self.field_allowed(field)
