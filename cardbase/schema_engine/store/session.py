"""One engine session: one actor, one transaction, one schema snapshot, one rights object.

A channel -- a web page, an API call, a CLI command, a worker job -- opens one session
(``RecordStore.session``) and does all its reading and writing through it, so the schema
and rights versions are checked once, a record is read once, and everything the page
shows comes from one consistent snapshot.

Every read names its purpose (read, api, export, report, print) and the session checks
the matching object right itself, so a new channel cannot forget it. Every write is an
operation applied by the one pipeline (``pipeline.apply``). ``capabilities`` answers
what the actor may do with an object and its fields, for menus, cards and lists.
"""
from __future__ import annotations

import builtins
import dataclasses
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from sqlalchemy import Connection

from ..actor import Actor
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..i18n import _, language, right_verb
from ..query import reader
from .. import data_versions
from ..query.aggregate import PreparedAggregate, prepare as prepare_aggregate
from ..query.aggregate import aggregate as run_aggregate
from ..query.model import AggregateQuery, ListQuery, Page
from ..query.paths import JoinBuilder
from ..rights.access import Access
from ..rights.capabilities import ObjectCapabilities, capabilities_of
from ..snapshot import ObjectInfo, Schema
from ..values import LinkRef
from . import history, pipeline
from .operations import BulkOp, CreateOp, OwnerOp, UpdateOp, record_id
from .serialize import record_to_json
from .sharing import ShareOp, UnshareOp, shares_of
from .trash import PurgeOp, RestoreOp, TrashManyOp, TrashOp
from .undo import UndoOp, recent_actions

if TYPE_CHECKING:  # pragma: no cover
    from .changeset import ChangeSet
    from .records import RecordStore, WriteHooks

# purpose -> the object rights a read for it needs
PURPOSES: dict[str, tuple[str, ...]] = {
    "read": ("read",),
    "api": ("read",),
    "export": ("read", "export"),
    "report": ("read", "report"),
    "print": ("read", "print"),
}


class Session:
    def __init__(self, store: "RecordStore", conn: Connection, actor: Actor, *, write: bool,
                 savepoints: bool = True):
        self.store, self.conn, self.actor, self.writable = store, conn, actor, write
        self.schema: Schema = store.db.schema(conn)
        self.access: Access = store.policy.access(conn, self.schema, actor)
        self.hooks: "WriteHooks" = store.hooks
        self._savepoints = savepoints
        self._capabilities: dict[int, ObjectCapabilities] = {}
        self._tokens: dict[str, str] | None = None  # data versions, read on first use
        self.last: "ChangeSet | None" = None  # the last ChangeSet applied (its action id for undo notices)

    # ---- rights ------------------------------------------------------------------------------
    def object(self, obj_ref: str | int | ObjectInfo) -> ObjectInfo:
        return obj_ref if isinstance(obj_ref, ObjectInfo) else self.schema.object(obj_ref)

    def can(self, obj_ref: str | int | ObjectInfo | None, right: str) -> bool:
        """May the actor ``right`` the object at all? (None: the global configuration.)"""
        return self.access.can(None if obj_ref is None else self.object(obj_ref), right)

    def require(self, obj_ref: str | int | ObjectInfo, right: str) -> ObjectInfo:
        obj = self.object(obj_ref)
        if not self.access.can(obj, right):
            raise Forbidden(_('you may not %(right)s %(objects)s', right=right_verb(right),
                              objects=obj.label_plural_in(language())))
        return obj

    def require_purpose(self, obj_ref: str | int | ObjectInfo, purpose: str) -> ObjectInfo:
        """The object, after checking every right a read for ``purpose`` needs."""
        try:
            rights = PURPOSES[purpose]
        except KeyError:
            raise ValueError(f"unknown read purpose {purpose!r}; one of {', '.join(PURPOSES)}") from None
        obj = self.object(obj_ref)
        for right in rights:
            self.require(obj, right)
        return obj

    def objects_with(self, right: str = "read") -> list[ObjectInfo]:
        """The objects the actor may ``right``, in the power user's menu order."""
        return [o for o in sorted(self.schema.objects, key=lambda o: (o.position, o.id)) if self.access.can(o, right)]

    def capabilities(self, obj_ref: str | int | ObjectInfo) -> ObjectCapabilities:
        """What the actor may do with the object and each field (computed once per session)."""
        obj = self.object(obj_ref)
        found = self._capabilities.get(obj.id)
        if found is None:
            found = self._capabilities[obj.id] = capabilities_of(self.access, obj)
        return found

    def record_rights(self, obj_ref: str | int | ObjectInfo, rid: int) -> dict[str, bool]:
        """read, edit and delete on one record (for a card's buttons)."""
        obj = self.object(obj_ref)
        return self.access.record_rights(obj, self.schema.table(obj), record_id(rid))

    def new_record_readable(self, obj_ref: str | int | ObjectInfo) -> bool | None:
        """Could the actor read a record they create now? True, False, or None when it
        depends on the record's values (a rule view, a parent) -- e.g. to offer "+ New"."""
        return self.access.new_record_readable(self.object(obj_ref))

    def allowed_ids(self, obj: ObjectInfo, ids: list[int], right: str) -> set[int]:
        return self.access.allowed_ids(obj, self.schema.table(obj), ids, right)

    # ---- reads -------------------------------------------------------------------------------
    def _read_rights(self, obj: ObjectInfo) -> dict[str, Any]:
        access = self.access
        return {"row_filter": access.row_filter(obj, self.schema.table(obj)),
                "field_allowed": access.field_readable(obj), "link_filter": access.link_filter}

    def fetch(self, obj: ObjectInfo, ids: Sequence[int], *, trash: bool | None = False,
              fields: Sequence[str] | None = None) -> dict[int, dict[str, Any]]:
        """The records among ``ids`` the actor may see, as they may see them (no purpose
        check: for the session's own steps and callers that checked already)."""
        return reader.fetch_records(self.conn, self.schema, obj, list(ids), fields=fields, trash=trash,
                                    statement_key=self.access.statement_key, **self._read_rights(obj))

    def get(self, obj_ref: str | int | ObjectInfo, rid: Any, *, purpose: str = "read",
            trash: bool | None = False) -> dict[str, Any]:
        obj = self.require_purpose(obj_ref, purpose)
        rid = record_id(rid)
        found = self.fetch(obj, [rid], trash=trash).get(rid)
        if found is None:
            label = obj.label_in(language())
            raise NotFound(_("there is no '%(label)s' record with id %(id)s in the trash", label=label, id=rid) if trash
                           else _("there is no '%(label)s' record with id %(id)s", label=label, id=rid))
        return found

    def list(self, obj_ref: str | int | ObjectInfo, query: ListQuery | None = None, *,
             purpose: str = "read", with_count: bool = True) -> Page:
        obj = self.require_purpose(obj_ref, purpose)
        return reader.fetch_page(self.conn, self.schema, obj, query or ListQuery(), with_count=with_count,
                                 **self._read_rights(obj))

    def count(self, obj_ref: str | int | ObjectInfo, filter: dict | None = None, search: str | None = None, *,
              purpose: str = "read") -> tuple[int, bool]:
        obj = self.require_purpose(obj_ref, purpose)
        return reader.count_records(self.conn, self.schema, obj, filter=filter, search=search,
                                    **self._read_rights(obj))

    def children(self, obj_ref: str | int | ObjectInfo, rid: Any, child_ref: str | int, link: str | None = None,
                 query: ListQuery | None = None, *, purpose: str = "read") -> Page:
        """The records of ``child_ref`` whose link points at the record (an order's lines).
        ``link`` names the link field when there are several."""
        query = query or ListQuery()
        parent, child = self.object(obj_ref), self.object(child_ref)
        links = [f for c, f in self.schema.children(parent) if c.id == child.id and (link is None or f.api_name == link)]
        if len(links) != 1:
            names = ", ".join(f.api_name for c, f in self.schema.children(parent) if c.id == child.id) or "none"
            raise ValidationError({"link": f"name the link field of '{child.api_name}' to '{parent.api_name}' "
                                           f"(links: {names})"})
        self.get(parent, rid, purpose=purpose)  # the parent must exist and be visible
        condition = {"field": links[0].api_name, "op": "eq", "value": record_id(rid)}
        combined = {"and": [condition, query.filter]} if query.filter else condition
        return self.list(child, dataclasses.replace(query, filter=combined), purpose=purpose)

    def aggregate(self, obj_ref: str | int | ObjectInfo, query: AggregateQuery, *,
                  purpose: str = "report") -> builtins.list[dict[str, Any]]:
        """Grouped figures: a report unless the caller says otherwise (a board's column sums)."""
        obj = self.require_purpose(obj_ref, purpose)
        return run_aggregate(self.conn, self.schema, obj, query, **self._read_rights(obj))

    def prepare_aggregate(self, obj_ref: str | int | ObjectInfo, query: AggregateQuery, *,
                          purpose: str = "report") -> PreparedAggregate:
        """The grouped statement for this reader, built (rights checked) but not run: a
        cached result is looked up by it (``report_builder.result_cache``)."""
        obj = self.require_purpose(obj_ref, purpose)
        return prepare_aggregate(self.schema, obj, query, **self._read_rights(obj))

    def data_tokens(self) -> dict[str, str] | None:
        """The data versions of every table, read once per session (``data_versions``);
        None while this session's own writes are not committed (they bump at commit, so
        the tokens would not yet say that the data moved) or the database has none."""
        if data_versions.pending_writes(self.conn):
            return None
        if self._tokens is None:
            self._tokens = data_versions.read_tokens(self.conn) or {}
        return self._tokens or None

    def history(self, obj_ref: str | int | ObjectInfo, rid: Any, *,
                read: Mapping[str, Any] | None = None) -> builtins.list[dict[str, Any]]:
        """The record's history. ``read``: the record as this session just read it (a
        card has), which spares reading it again to check it is visible."""
        obj = self.object(obj_ref)
        if read is not None and read.get("id") == record_id(rid):
            self.require_purpose(obj, "read")
        else:
            self.get(obj, rid, trash=None)
        return history.read(self.conn, self.schema, obj, record_id(rid), self.access.field_readable(obj))

    def link_choices(self, obj_ref: str | int | ObjectInfo, link: str, search: str | None = None,
                     limit: int = 20) -> builtins.list[LinkRef]:
        """What a link picker offers: records of the link's target the actor may see, by
        display value, optionally searched. Nothing when the target is not readable."""
        obj = self.object(obj_ref)
        readable = self.access.field_readable(obj)
        field = obj.fields_by_name.get(link) if isinstance(link, str) else None
        if field is None or (readable is not None and not readable(field)):
            raise ValidationError({"link": f"object '{obj.api_name}' has no field '{link}'"})
        if field.type != "link" and not field.ftype.stored_apart:  # a link, or a multi-link's picker
            raise ValidationError({"link": f"'{link}' is a {field.type} field, not a link"})
        target = self.schema.link_target(field)
        if not self.access.can(target, "read"):
            return []
        shown = JoinBuilder(self.schema, target, field_allowed=self.access.field_readable(target)).display_field(target)
        shown = shown or target.fields_by_name["code"]
        page = self.list(target, ListQuery(search=search, limit=limit, sort=[shown.api_name], fields=[shown.api_name]),
                         with_count=False)
        out = []
        for record in page.data:
            value = record.get(shown.api_name)
            text = value if value is None or isinstance(value, str) else shown.ftype.format(shown, value)
            out.append(LinkRef(record["id"], text))
        return out

    def to_json(self, obj_ref: str | int | ObjectInfo, record: Mapping[str, Any]) -> dict[str, Any]:
        return record_to_json(self.schema, self.object(obj_ref), record)

    # ---- writes ------------------------------------------------------------------------------
    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Where a ChangeSet's writes happen: undone on any error, the session goes on."""
        if not self.writable:
            raise RuntimeError("this session only reads: open it with write=True to change records")
        with self.conn.begin_nested() if self._savepoints else nullcontext():
            yield

    def apply(self, op: pipeline.Operation, *, undoes: int | None = None) -> Any:
        """Apply an operation through the pipeline; ``self.last`` is its ChangeSet."""
        cs, result = pipeline.apply(self, op, undoes=undoes)
        self.last = cs
        return result

    def problems(self, obj_ref: str | int | ObjectInfo, values: Mapping[str, Any], *, rid: Any = None,
                 version: int | None = None) -> dict[str, builtins.list[str]]:
        """What a create (``rid`` None) or an update of ``values`` would be refused for,
        field by field, without writing: a form whose own controls already failed to
        parse shows these beside them, so every problem is reported at once."""
        obj = self.object(obj_ref)
        op: CreateOp | UpdateOp = (CreateOp(obj, [values], single=True) if rid is None
                                   else UpdateOp(obj, [(rid, values, version)], single=True))
        try:
            op.authorize(self)
            op.validate(self)
        except ValidationError as exc:
            return {k: list(v) if isinstance(v, list) else [str(v)] for k, v in exc.errors.items()}
        except (Forbidden, NotFound, Conflict):
            return {}  # the save itself reports those
        return {}

    def create(self, obj_ref: str | int | ObjectInfo, values: Mapping[str, Any]) -> dict[str, Any]:
        obj = self.object(obj_ref)
        rid = self.apply(CreateOp(obj, [values], single=True))[0]
        # A group may create without reading what it created (record scope "none"): then the id only.
        return self.fetch(obj, [rid]).get(rid) or {"id": rid}

    def bulk_create(self, obj_ref: str | int | ObjectInfo, rows: Sequence[Mapping[str, Any]], *,
                    importing: bool = False, keep_codes: bool = False) -> builtins.list[int]:
        """Up to MAX_BULK records: all or nothing, errors per row."""
        return self.apply(CreateOp(self.object(obj_ref), rows, single=False, importing=importing,
                                   keep_codes=keep_codes))

    def update(self, obj_ref: str | int | ObjectInfo, rid: Any, values: Mapping[str, Any], *,
               version: int | None, fetch: bool = True) -> dict[str, Any] | None:
        """Change fields of a record read at ``version``; a newer version is a Conflict."""
        obj = self.object(obj_ref)
        op = UpdateOp(obj, [(rid, values, version)], single=True)
        self.apply(op)
        if not fetch:
            return None
        rid = op.ids[0]
        if not any(op.changes):
            return op.current[rid]
        return self.fetch(obj, [rid])[rid]

    def bulk_write(self, obj_ref: str | int | ObjectInfo, rows: Sequence[Mapping[str, Any]]) -> builtins.list[dict[str, Any]]:
        """Creates (rows without "id") and updates (with "id" and "version"), all or nothing."""
        return self.apply(BulkOp(self.object(obj_ref), rows))

    def delete(self, obj_ref: str | int | ObjectInfo, rid: Any, *, version: int | None = None) -> None:
        self.apply(TrashOp(self.object(obj_ref), rid, version))

    def bulk_delete(self, obj_ref: str | int | ObjectInfo,
                    rows: Sequence[tuple[Any, int | None]]) -> builtins.list[int]:
        """Move up to MAX_BULK records -- (id, version read or None) -- to the trash as one
        action: all or nothing, every row's problem at once (BulkValidationError)."""
        op = TrashManyOp(self.object(obj_ref), rows)
        self.apply(op)
        return [rid for rid in op.ids if rid is not None]

    def restore(self, obj_ref: str | int | ObjectInfo, rid: Any) -> dict[str, Any]:
        obj = self.object(obj_ref)
        op = RestoreOp(obj, rid)
        self.apply(op)
        return self.get(obj, op.rid)

    def purge(self, obj_ref: str | int | ObjectInfo, rid: Any) -> None:
        self.apply(PurgeOp(self.object(obj_ref), rid))

    def set_owner(self, obj_ref: str | int | ObjectInfo, rid: Any, user_id: Any, *,
                  version: int | None = None) -> dict[str, Any] | None:
        """Give a record to another user; the record as the actor now sees it (None if no
        longer visible)."""
        obj = self.object(obj_ref)
        op = OwnerOp(obj, rid, user_id, version)
        self.apply(op)
        rid = op.ids[0]
        assert rid is not None  # OwnerOp.authorize parsed the id or raised
        return self.fetch(obj, [rid]).get(rid)

    def share(self, obj_ref: str | int | ObjectInfo, rid: Any, *, user: Any = None, group: Any = None,
              level: str = "read") -> dict[str, Any]:
        """Share a record with a user or a group at read, change or full."""
        return self.apply(ShareOp(self.object(obj_ref), rid, user=user, group=group, level=level))

    def unshare(self, obj_ref: str | int | ObjectInfo, rid: Any, *, user: Any = None, group: Any = None) -> None:
        """End a share: by whoever granted it, or anyone with full access to the record."""
        self.apply(UnshareOp(self.object(obj_ref), rid, user, group))

    def shares_of(self, obj_ref: str | int | ObjectInfo, rid: Any) -> builtins.list[dict[str, Any]]:
        return shares_of(self, self.object(obj_ref), rid)

    # ---- actions and undo --------------------------------------------------------------------
    def actions(self, limit: int = 20) -> builtins.list[dict[str, Any]]:
        """The actor's recent actions, newest first."""
        return recent_actions(self, limit)

    def undo(self, action_id: Any) -> dict[str, Any]:
        """Revert one of the actor's own actions (itself an action: undoing it is redo)."""
        op = UndoOp(action_id)
        self.apply(op, undoes=op.action_id)
        return {"undone": op.action_id, "action": self.last.action_id if self.last else None}
