"""The seam where rights enter the record store.

Every read and write of the store first asks the policy for the actor's ``Access`` in the
current transaction, then asks it: may the actor do this to the object (``can``), which
rows may it see or change (``row_filter``: a WHERE clause the query compiler adds, also
to every join that follows a link), which fields may it read (``field_readable``) or
write (``field_writable``). There is no second implementation anywhere: a single-record
check is the same row filter evaluated for one id (``record_allows``), so a list and a
single record can never disagree.

``AccessPolicy`` (the store's default) enforces the groups' rights from the rights
tables; admins and the system get ``FULL_ACCESS``. ``OpenPolicy`` lets everyone do
everything (tools and tests that are not about rights).
"""
from __future__ import annotations

from typing import Callable, Optional

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from ..actor import Actor
from ..errors import ValidationError
from ..query.filters import condition_for_table
from ..query.paths import LinkFilter
from ..query.relative import local_today, reset_viewer, use_viewer
from .derived import hidden_computed, partial_rollups
from .model import READ_GIVING, ActorRights, RightsModel, current_model, tx_cache
from ..rights_models import LEVEL_RANK, LEVELS, RIGHT_LEVEL, Share
from ..snapshot import FieldInfo, ObjectInfo, Schema

RIGHTS = ("read", "create", "edit", "delete", "export", "print", "report", "configure")
RECORD_RIGHTS = ("read", "edit", "delete")
FieldAllowed = Callable[[FieldInfo], bool]
_share = Share.__table__
# One alias object for every share sub-query: aliases are immutable and each sub-query is
# its own scope, and building the alias's columns anew would cost more than the query.
_share_alias = _share.alias("sh")


class Access:
    """Full access (admins, the system, the open policy): nothing is narrowed."""

    restricted = False

    def can(self, obj: ObjectInfo | None, right: str) -> bool:
        return True

    def row_filter(self, obj: ObjectInfo, table: FromClause, right: str = "read") -> Optional[ColumnElement]:
        return None

    @property
    def link_filter(self) -> LinkFilter | None:
        """For the query compiler: (target, alias name) -> (alias, its row filter)."""
        return None

    def field_readable(self, obj: ObjectInfo) -> FieldAllowed | None:
        return None

    def field_writable(self, obj: ObjectInfo, field: FieldInfo) -> bool:
        return True

    def record_rights(self, obj: ObjectInfo, table: sa.Table, record_id: int) -> dict[str, bool]:
        return {r: True for r in RECORD_RIGHTS}

    def record_allows(self, obj: ObjectInfo, table: sa.Table, record_id: int, right: str) -> bool:
        return True

    def new_record_readable(self, obj: ObjectInfo) -> bool | None:
        """Whether a record the actor creates now would be readable to them (None: it
        depends on its values). Full access reads everything."""
        return True

    def allowed_ids(self, obj: ObjectInfo, table: sa.Table, ids: list[int], right: str) -> set[int]:
        """Which of ``ids`` the actor may ``right``: the list's row filter for them."""
        clause = self.row_filter(obj, table, right)
        if clause is None or not ids:
            return set(ids)
        conn = self.conn  # type: ignore[attr-defined]  # only restricted accesses have a clause
        found: set[int] = set()
        for start in range(0, len(ids), 1000):
            found.update(conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids[start:start + 1000]), clause))
                         .scalars())
        return found

    @property
    def statement_key(self) -> tuple[object, tuple] | None:
        """What the read statements built for this access depend on, so the reader may
        reuse them within a schema snapshot: (an object the cache keeps alive with the
        statement, a hashable key naming it); None: build afresh every time."""
        return (self, ("full",)) if type(self) is Access else None


FULL_ACCESS = Access()


class RightsAccess(Access):
    """The rights of one non-admin actor inside one transaction."""

    restricted = True

    def __init__(self, conn: Connection, schema: Schema, actor: Actor, model: RightsModel, rights: ActorRights):
        self.conn, self.schema, self.actor, self.model, self.rights = conn, schema, actor, model, rights
        self._has_share: dict[tuple[int, int], bool] = {}
        self._hidden: frozenset[int] | None = None
        self._readable: FieldAllowed | None = None
        self._following: set[int] = set()  # objects whose parent clause is being built (loop guard)
        # Clauses of rule views relative to today are built for the day: it is in their cache keys.
        self._day = local_today() if any(v.dated for views in rights.rule_views.values() for v in views) else None

    # ---- object level --------------------------------------------------------------------
    def can(self, obj: ObjectInfo | None, right: str) -> bool:
        if right not in RIGHTS:
            raise ValueError(f"unknown right {right!r}")
        if obj is None:  # global configuration (new objects, solutions): admins only
            return False
        held = self.rights.rights_on(obj.id)
        if right not in RIGHT_LEVEL:
            return right in held
        if right == "read" and held & READ_GIVING or right in held:
            return True
        if obj.id in self.model.parents:  # record access follows the parent: no rule views, no shares
            return False
        need = RIGHT_LEVEL[right]
        if any(v.rank >= need for v in self.rights.rule_views.get(obj.id, ())):
            return True
        return self.has_share(obj, need)

    def has_share(self, obj: ObjectInfo, need: int) -> bool:
        """Is any record of ``obj`` shared with the actor (or a group of theirs) at level
        ``need`` or above? (Whether the object is reachable at all when no group right or
        rule view covers it.) One statement of index probes per object, level and
        transaction."""
        key = (obj.id, need)
        if key not in self._has_share:
            levels = [lv for lv in LEVELS if LEVEL_RANK[lv] >= need]
            probes = []
            if self.actor.user_id is not None:
                probes.append(sa.exists().where(_share.c.user_id == self.actor.user_id,
                                                _share.c.object_id == obj.id, _share.c.level.in_(levels)))
            for group in sorted(self.rights.group_ids):
                probes.append(sa.exists().where(_share.c.group_id == group, _share.c.object_id == obj.id,
                                                _share.c.level.in_(levels)))
            found = bool(probes) and self.conn.execute(sa.select(sa.literal(1)).where(sa.or_(*probes))).first()
            self._has_share[key] = bool(found)
        return self._has_share[key]

    def _share_grantee(self, share: FromClause) -> ColumnElement | None:
        who = []
        if self.actor.user_id is not None:
            who.append(share.c.user_id == self.actor.user_id)
        if self.rights.group_ids:
            who.append(share.c.group_id.in_(sorted(self.rights.group_ids)))
        return sa.or_(*who) if who else None

    # ---- rows ----------------------------------------------------------------------------
    def row_filter(self, obj: ObjectInfo, table: FromClause, right: str = "read") -> Optional[ColumnElement]:
        # Built once per actor for the snapshot's own table, then reused by later requests
        # (keyed by the Table object: another snapshot of the same version gets its own).
        cacheable = table is self.schema.table(obj)
        key = ("rows", table, right, self._day)
        if cacheable and key in self.rights.clauses:
            return self.rights.clauses[key]
        terms = self.grant_terms(obj, table, right)
        clause = None if terms is None else sa.or_(*[t for _, t in terms]) if terms else sa.false()
        if cacheable:
            self.rights.clauses[key] = clause
        return clause

    def _link(self, target: ObjectInfo, name: str) -> tuple[FromClause, ColumnElement | None]:
        base = self.schema.table(target)
        key = ("link", base, name, self._day)
        found = self.rights.clauses.get(key)
        if found is None:
            alias = base.alias(name)
            found = (alias, self.row_filter(target, alias, "read"))
            self.rights.clauses[key] = found
        return found

    def grant_terms(self, obj: ObjectInfo, table: FromClause, right: str) -> list[tuple[str, ColumnElement]] | None:
        """The ways ``right`` may be granted on rows of ``table``, each with its reason
        kind ("rule_view:<id>", "owner", "share", "parent"); None: every row.

        Each group's object right reaches the records its record scope names (all, own
        and shared, only those its rule views match, none); rule views grant their level
        on the records they match (not under scope "none"); shares add single records.
        An object following its parent takes exactly the parent's row filter instead."""
        need = RIGHT_LEVEL[right]
        model, rights = self.model, self.rights
        parent_field = model.parents.get(obj.id)
        if parent_field is not None:
            held = rights.rights_on(obj.id)
            if not (bool(held & READ_GIVING) if right == "read" else right in held):
                return []
            clause = self._parent_clause(obj, table, right, parent_field)
            return None if clause is None else [("parent", clause)]
        owner, view_groups = False, set()
        for group in sorted(rights.group_ids):
            held_g = model.object_rights.get(group, {}).get(obj.id, frozenset())
            if not (bool(held_g & READ_GIVING) if right == "read" else right in held_g):
                continue
            scope = model.scope(group, obj.id)
            if scope == "all" and right in held_g:
                return None
            if scope in ("all", "own_and_shared"):
                owner = True
            elif scope == "rule_views":
                view_groups.add(group)
        terms: list[tuple[str, ColumnElement]] = []
        for view in rights.rule_views.get(obj.id, ()):
            if view.rank >= need or view.group_id in view_groups:
                clause = self._rule_clause(obj, table, view)
                if clause is not None:
                    terms.append((f"rule_view:{view.id}", clause))
        if owner and self.actor.user_id is not None:
            terms.append(("owner", table.c.owner_id == self.actor.user_id))
        share = self.share_clause(obj, table, need)
        if share is not None:
            terms.append(("share", share))
        return terms

    def new_record_readable(self, obj: ObjectInfo) -> bool | None:
        """Whether the actor could read a record of ``obj`` they create now: True (every
        row, or their own -- a new record is theirs), False (nothing grants it: record
        scope "none", where only a share could, and a new record has none), None (it
        depends on its values: a rule view, or the parent it follows)."""
        terms = self.grant_terms(obj, self.schema.table(obj), "read")
        if terms is None:
            return True
        kinds = {kind.split(":")[0] for kind, _clause in terms}
        if "owner" in kinds:
            return True
        return None if kinds & {"rule_view", "parent"} else False

    def parent_link(self, obj: ObjectInfo) -> FieldInfo | None:
        """The link field whose record ``obj``'s records take their access from, if any."""
        field_id = self.model.parents.get(obj.id)
        return None if field_id is None else next((f for f in obj.user_fields if f.id == field_id), None)

    def _parent_clause(self, obj: ObjectInfo, table: FromClause, right: str, field_id: int) -> ColumnElement | None:
        """Rows whose parent (the record the link points at) allows ``right``: the link
        column IN the parent rows the parent's own row filter lets through; None when that
        filter lets every parent through. A loop (refused when saved) grants nothing."""
        field = next((f for f in obj.user_fields if f.id == field_id), None)
        if field is None or obj.id in self._following:
            return sa.false()
        target = self.schema.link_target(field)
        self._following.add(obj.id)
        try:
            parent = self.schema.table(target).alias(f"par{len(self._following)}_{target.id}")
            terms = self.grant_terms(target, parent, right)
        finally:
            self._following.discard(obj.id)
        if terms is None:
            return None
        # One IN list per way the parent is granted, each one sub-query the database runs
        # once per statement: the parent's shares as their record ids (not a probe per
        # parent row), a rule view through its own index.
        link = table.c[field.column]
        ins = [link.in_(sa.select(parent.c.id).where(term)) for kind, term in terms if kind != "share"]
        shared = self.shared_ids(target, RIGHT_LEVEL[right])
        if shared is not None:
            ins.append(link.in_(shared))
        return sa.or_(*ins) if ins else sa.false()

    def shared_ids(self, obj: ObjectInfo, need: int):
        """The ids of the records of ``obj`` shared with the actor or their groups at level
        ``need`` or above, as a sub-query on cb_share (None: the actor can hold no share)."""
        share = _share_alias
        who = self._share_grantee(share)
        if who is None:
            return None
        conditions = [share.c.object_id == obj.id, who]
        if need > 1:
            conditions.append(share.c.level.in_([lv for lv in LEVELS if LEVEL_RANK[lv] >= need]))
        return sa.select(share.c.record_id).where(*conditions)

    def _rule_clause(self, obj: ObjectInfo, table: FromClause, view) -> ColumnElement | None:
        # "me" in a rule view is the user whose rights these are, whoever asks (an admin's
        # explain included): the clause is cached for that user.
        token = use_viewer(self.actor.user_id)
        try:
            return condition_for_table(self.schema, obj, table, view.tree)
        except ValidationError:  # the schema moved under it: a broken rule grants nothing
            return None
        finally:
            reset_viewer(token)

    def share_clause(self, obj: ObjectInfo, table: FromClause, need: int) -> ColumnElement | None:
        """Rows shared with the actor or one of their groups at level ``need`` or above: a
        sub-query on cb_share, never a list of ids. SQLite probes the (object, record)
        index per row with a correlated EXISTS; PostgreSQL gets the same condition as
        ``id IN (sub-query)``, which it runs as one hashed sub-plan per statement -- it
        costs a correlated EXISTS under OR so high that it would give up the sort index."""
        share = _share_alias
        who = self._share_grantee(share)
        if who is None:
            return None
        conditions = [share.c.object_id == obj.id, who]
        if need > 1:
            conditions.append(share.c.level.in_([lv for lv in LEVELS if LEVEL_RANK[lv] >= need]))
        if self.schema.dialect == "postgresql":
            return table.c.id.in_(sa.select(share.c.record_id).where(*conditions))
        return sa.exists().where(share.c.record_id == table.c.id, *conditions)

    @property
    def link_filter(self) -> LinkFilter:
        return self._link

    def record_rights(self, obj: ObjectInfo, table: sa.Table, record_id: int) -> dict[str, bool]:
        """read/edit/delete on one record: the same clauses as lists, for one id."""
        columns = []
        for right in RECORD_RIGHTS:
            clause = self.row_filter(obj, table, right)
            columns.append(sa.literal(True) if clause is None else sa.case((clause, True), else_=False))
        row = self.conn.execute(sa.select(*columns).where(table.c.id == record_id)).first()
        if row is None:
            return {r: False for r in RECORD_RIGHTS}
        return {r: bool(v) for r, v in zip(RECORD_RIGHTS, row)}

    def record_allows(self, obj: ObjectInfo, table: sa.Table, record_id: int, right: str) -> bool:
        clause = self.row_filter(obj, table, right)
        stmt = sa.select(sa.literal(1)).select_from(table).where(table.c.id == record_id)
        if clause is not None:
            stmt = stmt.where(clause)
        return self.conn.execute(stmt).first() is not None

    # ---- fields --------------------------------------------------------------------------
    def sees_every_record(self, obj: ObjectInfo) -> bool:
        """May the actor read every record of ``obj`` (no row filter narrows its reads)?"""
        return self.row_filter(obj, self.schema.table(obj)) is None

    @property
    def partial_rollups(self) -> frozenset[int]:
        """Ids of the min, max and concat rollups over children of which the actor may not
        see every record (``rights.derived.partial_rollups``). Whether a row filter
        applies depends on the rights and the schema only, never on data, so this is
        computed once per actor and model (schema and rights version)."""
        key = ("partial_rollups",)
        found = self.rights.clauses.get(key)
        if found is None:
            found = partial_rollups(self.schema, self.sees_every_record)
            self.rights.clauses[key] = found
        return found

    @property
    def hidden_fields(self) -> frozenset[int]:
        """Ids of the fields the actor may not read: those their groups hide, the rollups
        revealing values of children the actor cannot all see (``partial_rollups``), and
        the computed fields derived from any of those or from an object they may not read
        (``rights.derived``). Computed once per transaction: readability of objects
        depends on shares, which are data."""
        if self._hidden is None:
            hidden = self.rights.hidden | self.partial_rollups
            self._hidden = hidden | hidden_computed(self.schema, hidden, lambda o: self.can(o, "read"))
            if self._hidden:
                mask = self._hidden
                self._readable = lambda f: f.id is None or f.id not in mask
        return self._hidden

    def field_readable(self, obj: ObjectInfo) -> FieldAllowed | None:
        self.hidden_fields  # noqa: B018 - computes the mask on first use
        return self._readable

    @property
    def statement_key(self) -> tuple[object, tuple]:
        # Row filters and link filters are built once per ActorRights (one model, one user
        # and group set: see row_filter and _link); the field mask also depends on shares,
        # so it is part of the key.
        return self.rights, ("rights", id(self.rights), self.hidden_fields, self._day)

    def field_level(self, field: FieldInfo) -> str:
        if field.id is None:
            return "read_only" if not field.writable else "editable"
        if field.id in self.hidden_fields:
            return "hidden"
        return self.rights.field_level.get(field.id, "editable")

    def field_writable(self, obj: ObjectInfo, field: FieldInfo) -> bool:
        return field.id is None or self.rights.field_level.get(field.id, "editable") == "editable"


class AccessPolicy:
    """The rights system: groups' object, record, field and rule rights (the default)."""

    def access(self, conn: Connection, schema: Schema, actor: Actor) -> Access:
        if actor.is_admin:
            return FULL_ACCESS
        memo = tx_cache(conn)
        key = ("access", actor, schema.version)
        found = memo.get(key)
        if found is None:
            model = current_model(conn, schema)
            found = RightsAccess(conn, schema, actor, model, model.for_actor(actor))
            memo[key] = found
        return found


class OpenPolicy(AccessPolicy):
    """Everyone may do everything (for tools and tests that are not about rights)."""

    def access(self, conn: Connection, schema: Schema, actor: Actor) -> Access:
        return FULL_ACCESS
