"""Which rule grants or denies each right of an actor on a record.

The explanation is computed from the very terms the row filter ORs together
(``RightsAccess.grant_terms``), each evaluated for the one record, so it cannot disagree
with what lists and single-record checks do.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..errors import NotFound
from ..i18n import _
from ..meta_models import User
from ..rights_models import LEVEL_RANK, LEVELS, OBJECT_RIGHTS, RIGHT_LEVEL, Share
from .access import AccessPolicy, RightsAccess
from .derived import hidden_reason

RECORD_RIGHTS = ("read", "edit", "delete")


def explain(db, actor: Actor, obj_ref: Any, record_id: int, policy=None) -> dict[str, Any]:
    """{"rights": {right: {"allowed": bool, "reasons": [...]}}, "fields": {name: {"level",
    "reasons"}}} for the actor on one record (also a trashed one)."""
    with db.read() as conn:
        schema = db.schema(conn)
        obj = schema.object(obj_ref)
        table = schema.table(obj)
        if conn.execute(sa.select(table.c.id).where(table.c.id == record_id)).first() is None:
            raise NotFound(f"there is no '{obj.label}' record with id {record_id}")
        access = (policy or AccessPolicy()).access(conn, schema, actor)
        out: dict[str, Any] = {"user": actor.username, "object": obj.api_name, "record": record_id,
                               "rights": {}, "fields": {}}
        if not isinstance(access, RightsAccess):
            why = _("administrator: every right, every record and field") if actor.is_admin else _("open policy")
            out["rights"] = {r: {"allowed": True, "reasons": [why]} for r in OBJECT_RIGHTS}
            out["fields"] = {f.api_name: {"level": "editable" if f.writable else "read_only", "reasons": [why]}
                             for f in obj.fields}
            return out
        model, rights = access.model, access.rights
        names = model.group_names

        def granting(right: str) -> list[str]:
            return sorted(names[g] for g in rights.group_ids if right in model.object_rights.get(g, {}).get(obj.id, ()))

        for right in OBJECT_RIGHTS:
            if right in RECORD_RIGHTS:
                continue
            groups = granting(right)
            out["rights"][right] = {
                "allowed": bool(groups),
                "reasons": [_("group '%(group)s' has %(right)s on %(objects)s", group=g, right=right,
                              objects=obj.label_plural) for g in groups]
                or [_("denied: none of the user's groups has %(right)s on %(objects)s", right=right,
                      objects=obj.label_plural)]}
        mode = model.mode(obj.id)
        for right in RECORD_RIGHTS:
            terms = access.grant_terms(obj, table, right)
            parent = access.parent_link(obj)
            if terms is None:
                out["rights"][right] = {"allowed": True, "reasons": [
                    _("%(objects)s follow their %(parent)s: every one allows %(right)s", objects=obj.label_plural,
                      parent=parent.label, right=right)] if parent else [
                    _("group '%(group)s' has %(right)s on %(objects)s (record scope 'all': every record)", group=g,
                      right=right, objects=obj.label_plural)
                    for g in sorted(names[g] for g in rights.group_ids if model.scope(g, obj.id) == "all"
                                    and right in model.object_rights.get(g, {}).get(obj.id, ()))]}
                continue
            hits = []
            if terms:
                row = conn.execute(sa.select(*[sa.case((t, True), else_=False) for _, t in terms])
                                   .where(table.c.id == record_id)).one()
                hits = [kind for (kind, _), hit in zip(terms, row) if hit]
            reasons = []
            for kind in hits:
                if kind == "parent" and parent is not None:
                    reasons.append(_("%(objects)s follow their %(parent)s (link '%(link)s'), and the linked record "
                                     "allows %(right)s", objects=obj.label_plural, parent=parent.label,
                                     link=parent.api_name, right=right))
                elif kind == "owner":
                    via = ", ".join(f"'{g}'" for g in granting(right) or granting("read") or
                                    granting("create") or granting("edit") or granting("delete"))
                    reasons.append(_("owner: the user owns the record (object right via group %(groups)s)", groups=via))
                elif kind == "share":
                    reasons.extend(_share_reasons(conn, access, obj, record_id, right, names))
                else:
                    view = next(v for v in rights.rule_views[obj.id] if f"rule_view:{v.id}" == kind)
                    reasons.append(_("rule view '%(view)s' of group '%(group)s' (%(level)s) matches the record",
                                     view=view.name, group=names[view.group_id], level=view.level))
            if not reasons and parent is not None:
                reasons = [_("denied: %(objects)s follow their %(parent)s (link '%(link)s') and the linked record "
                             "does not allow %(right)s, or no group of the user has %(right)s on %(objects)s",
                             objects=obj.label_plural, parent=parent.label, link=parent.api_name, right=right)]
            if not reasons:
                reasons = [_denial(obj, right, mode, granting(right), bool(granting("read") or granting("create")
                                                                         or granting("edit") or granting("delete")))]
            out["rights"][right] = {"allowed": bool(hits), "reasons": reasons}
        for field in obj.fields:
            out["fields"][field.api_name] = _field_reason(model, rights, field, names)
            if field.id in access.hidden_fields and field.id not in rights.hidden:
                derived = hidden_reason(schema, field.id, rights.hidden, lambda o: access.can(o, "read"),
                                        access.partial_rollups)
                out["fields"][field.api_name] = {"level": "hidden", "reasons": [derived or "computed from hidden data"]}
        return out


def _share_reasons(conn, access, obj, record_id: int, right: str, names) -> list[str]:
    s = Share.__table__
    need = RIGHT_LEVEL[right]
    rows = conn.execute(sa.select(s.c.user_id, s.c.group_id, s.c.level, User.username).select_from(
        s.outerjoin(User.__table__, User.id == s.c.user_id)).where(
        s.c.object_id == obj.id, s.c.record_id == record_id, access._share_grantee(s))).all()
    return [_("shared with user %(name)s at %(level)s", name=repr(r.username), level=r.level) if r.user_id else
            _("shared with group %(name)s at %(level)s", name=repr(names.get(r.group_id)), level=r.level)
            for r in rows if LEVEL_RANK[r.level] >= need]


def _denial(obj, right: str, mode: str, groups: list[str], may_own: bool) -> str:
    need = LEVELS[RIGHT_LEVEL[right] - 1]
    parts = []
    if groups:
        parts.append(_("groups %(groups)s have %(right)s only on some records (record scope own and shared, rule "
                       "views or none) and this is not one of them", groups=", ".join(repr(g) for g in groups),
                       right=right))
    else:
        parts.append(_("no group of the user has %(right)s on %(objects)s", right=right, objects=obj.label_plural))
    parts.append(_("it is not shared with the user or their groups at %(level)s or above", level=need))
    parts.append(_("no rule view of their groups grants %(level)s or above on it", level=need))
    return _("denied: %(reasons)s", reasons="; ".join(parts))


def _field_reason(model, rights, field, names) -> dict[str, Any]:
    if field.id is None:
        return {"level": "editable" if field.writable else "read_only", "reasons": [_("system field")]}
    setters = [(names[g], model.field_levels[g][field.id]) for g in sorted(rights.group_ids)
               if field.id in model.field_levels.get(g, {})]
    level = rights.field_level.get(field.id, "editable")
    if not setters:
        return {"level": level, "reasons": [_("no group of the user restricts it")]}
    return {"level": level, "reasons": [_("group '%(group)s' sets %(level)s", group=g, level=lv) for g, lv in setters] +
            [_("the highest level of the user's groups counts: %(level)s", level=level)]}


__all__ = ["explain"]
