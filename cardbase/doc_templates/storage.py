"""Templates in the database: one row per template (name, description, language, the
groups that may use it), one row per uploaded .docx (numbered versions; the newest is in
use), so solutions and backups carry them table by table.

Managing templates needs the configure right on the object; using one needs the print
right and, when the template names groups, membership in one of them (admins always).
Every upload is checked as a package (``package.check_docx``) and against the metadata
(``checker``): a template with unknown placeholders is refused with the report, and
nothing is stored."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.i18n import _, language
from cardbase.schema_engine.meta_models import ConfigChange, Group, utcnow
from cardbase.schema_engine.snapshot import ObjectInfo, Schema
from cardbase.schema_engine.store.records import RecordStore
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.template_models import DocTemplate, DocTemplateGroup, DocTemplateVersion

from .formatting import LANGUAGES
from .limits import MAX_DESCRIPTION, MAX_NAME
from .package import check_docx
from .render import TemplateFile, TemplateProblems, check_template
from .source import template_tags
from .checker import analyse

KEEP: Any = object()  # "leave as it is" for update_template


# ---- rights ------------------------------------------------------------------------------------------
def _may(store: RecordStore, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo, right: str) -> bool:
    return store.policy.access(conn, schema, actor).can(obj, right)


def _require_configure(store: RecordStore, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo) -> None:
    if not _may(store, conn, schema, actor, obj, "configure"):
        raise Forbidden(_("you may not configure %(objects)s", objects=obj.label_plural_in(language())))


def _usable(actor: Actor, group_ids: Iterable[int]) -> bool:
    groups = set(group_ids)
    return actor.is_admin or not groups or bool(groups & set(actor.group_ids))


# ---- reading -----------------------------------------------------------------------------------------
def _row(conn: Connection, obj: ObjectInfo, template_id: Any) -> Any:
    if isinstance(template_id, bool) or not isinstance(template_id, int):
        raise NotFound(_("there is no template %(id)s", id=template_id))
    row = conn.execute(sa.select(DocTemplate).where(DocTemplate.id == template_id,
                                                    DocTemplate.object_id == obj.id)).mappings().first()
    if row is None:
        raise NotFound(_("%(objects)s have no template %(id)s", objects=obj.label_plural_in(language()),
                         id=template_id))
    return row


def _groups(conn: Connection, template_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = {tid: [] for tid in template_ids}
    if template_ids:
        for tid, gid, name in conn.execute(
                sa.select(DocTemplateGroup.template_id, Group.id, Group.name)
                .join(Group, Group.id == DocTemplateGroup.group_id)
                .where(DocTemplateGroup.template_id.in_(template_ids)).order_by(Group.name)):
            out[tid].append((gid, name))
    return out


def _versions(conn: Connection, template_ids: Sequence[int], *, content: bool = False) -> dict[int, list[Any]]:
    v = DocTemplateVersion.__table__.c
    cols = [v.id, v.template_id, v.number, v.filename, v.size, v.sha256, v.references, v.uploaded_by, v.uploaded_at]
    if content:
        cols.append(v.content)
    out: dict[int, list[Any]] = {tid: [] for tid in template_ids}
    if template_ids:
        for row in conn.execute(sa.select(*cols).where(v.template_id.in_(template_ids))
                                .order_by(v.template_id, v.number.desc())).mappings():
            out[row["template_id"]].append(row)
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _describe(schema: Schema, obj: ObjectInfo, row: Any, groups: list[tuple[int, str]], versions: list[Any],
              current: Any | None) -> dict[str, Any]:
    out = {"id": row["id"], "object": obj.api_name, "name": row["name"], "description": row["description"],
           "language": row["language"], "groups": [name for _gid, name in groups],
           "version": row["current_version"], "modified_at": _iso(row["modified_at"]),
           "versions": [{"number": v["number"], "filename": v["filename"], "size": v["size"], "sha256": v["sha256"],
                         "uploaded_at": _iso(v["uploaded_at"]), "uploaded_by": v["uploaded_by"]} for v in versions]}
    if current is not None:
        out["filename"], out["size"] = current["filename"], current["size"]
        analysis = analyse(schema, obj, template_tags(current["content"]), (current["references"] or {}).get("names"))
        out["problems"] = [p.as_dict() for p in analysis.problems]
    return out


def list_templates(store: RecordStore, actor: Actor, obj_ref: str | int, *, manage: bool = False) -> list[dict[str, Any]]:
    """The object's templates: all of them with their validation report for someone who
    may configure the object (``manage``), else those the actor may use."""
    with store.db.read() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        if manage:
            _require_configure(store, conn, schema, actor, obj)
        elif not _may(store, conn, schema, actor, obj, "print"):
            return []
        rows = conn.execute(sa.select(DocTemplate).where(DocTemplate.object_id == obj.id)
                            .order_by(DocTemplate.name, DocTemplate.id)).mappings().all()
        ids = [r["id"] for r in rows]
        groups = _groups(conn, ids)
        versions = _versions(conn, ids, content=manage)
        out = []
        for row in rows:
            if not manage and not _usable(actor, [g for g, _n in groups[row["id"]]]):
                continue
            current = versions[row["id"]][0] if manage and versions[row["id"]] else None
            out.append(_describe(schema, obj, row, groups[row["id"]], versions[row["id"]], current))
        return out


def usable_templates(session: Session, obj: ObjectInfo) -> list[dict[str, Any]]:
    """Id and name of the templates the session's actor may fill for ``obj`` (a card's
    Documents menu), in the session's transaction."""
    if not session.can(obj, "print"):
        return []
    rows = session.conn.execute(sa.select(DocTemplate.id, DocTemplate.name).where(DocTemplate.object_id == obj.id)
                                .order_by(DocTemplate.name, DocTemplate.id)).all()
    groups = _groups(session.conn, [r[0] for r in rows])
    return [{"id": tid, "name": name} for tid, name in rows
            if _usable(session.actor, [g for g, _n in groups[tid]])]


def get_template(store: RecordStore, actor: Actor, obj_ref: str | int, template_id: int) -> dict[str, Any]:
    """One template with its versions and its validation report (configure right)."""
    with store.db.read() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        _require_configure(store, conn, schema, actor, obj)
        row = _row(conn, obj, template_id)
        versions = _versions(conn, [row["id"]], content=True)[row["id"]]
        return _describe(schema, obj, row, _groups(conn, [row["id"]])[row["id"]], versions,
                         versions[0] if versions else None)


def template_content(store: RecordStore, actor: Actor, obj_ref: str | int, template_id: int,
                     number: int | None = None) -> tuple[str, bytes]:
    """(file name, .docx bytes) of a version (default: the current one), for download."""
    with store.db.read() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        _require_configure(store, conn, schema, actor, obj)
        row = _row(conn, obj, template_id)
        v = DocTemplateVersion.__table__.c
        found = conn.execute(sa.select(v.filename, v.content).where(
            v.template_id == row["id"], v.number == (number or row["current_version"]))).first()
        if found is None:
            raise NotFound(_("the template '%(name)s' has no version %(number)s", name=row["name"], number=number))
        return found[0], found[1]


def template_file(session: Session, obj: ObjectInfo, template_id: int) -> TemplateFile:
    """The current version of a template the session's actor may use, for rendering."""
    row = _row(session.conn, obj, template_id)
    groups = _groups(session.conn, [row["id"]])[row["id"]]
    if not _usable(session.actor, [g for g, _n in groups]):
        raise Forbidden(_("the template '%(name)s' is for the groups %(groups)s only", name=row["name"],
                          groups=", ".join(n for _g, n in groups)))
    v = DocTemplateVersion.__table__.c
    version = session.conn.execute(sa.select(v.content, v.references).where(
        v.template_id == row["id"], v.number == row["current_version"])).first()
    if version is None:
        raise NotFound(_("the template '%(name)s' has no file", name=row["name"]))
    return TemplateFile(row["id"], obj.id, row["name"], row["language"], version[0], version[1] or {})


# ---- writing -----------------------------------------------------------------------------------------
def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"name": _("a template needs a name")})
    value = value.strip()
    if len(value) > MAX_NAME:
        raise ValidationError({"name": _("at most %(limit)s characters", limit=MAX_NAME)})
    return value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise ValidationError({"description": _("text of at most %(limit)s characters", limit=MAX_DESCRIPTION)})
    return value


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise ValidationError({"language": _("%(value)s is not a document language; use one of %(languages)s",
                                             value=repr(value), languages=", ".join(LANGUAGES))})
    return str(value)


def _group_ids(conn: Connection, refs: Any) -> list[int]:
    if refs is None:
        return []
    if not isinstance(refs, (list, tuple)):
        raise ValidationError({"groups": _("a list of group names")})
    out = []
    for ref in refs:
        column = Group.id if isinstance(ref, int) and not isinstance(ref, bool) else Group.name
        gid = conn.execute(sa.select(Group.id).where(column == ref)).scalar() if isinstance(ref, (int, str)) else None
        if gid is None:
            raise ValidationError({"groups": _("there is no group %(group)s", group=repr(ref))})
        out.append(gid)
    return sorted(set(out))


def _check_unique(conn: Connection, obj: ObjectInfo, name: str, template_id: int | None) -> None:
    query = sa.select(DocTemplate.id).where(DocTemplate.object_id == obj.id, DocTemplate.name == name)
    if template_id is not None:
        query = query.where(DocTemplate.id != template_id)
    if conn.execute(query).first() is not None:
        raise ValidationError({"name": _("%(objects)s already have a template named '%(name)s'",
                                         objects=obj.label_plural_in(language()), name=name)})


def check_upload(schema: Schema, obj: ObjectInfo, name: str, filename: str, content: bytes) -> dict[str, Any]:
    """The references of an acceptable upload; refused (TemplateProblems) with the report."""
    check_docx(content, filename)
    analysis = check_template(schema, obj, content)
    if not analysis.ok:
        raise TemplateProblems(name, [p.as_dict() for p in analysis.problems])
    return analysis.references()


def _add_version(conn: Connection, actor: Actor, template_id: int, number: int, filename: str, content: bytes,
                 references: dict[str, Any]) -> None:
    conn.execute(sa.insert(DocTemplateVersion).values(
        template_id=template_id, number=number, filename=filename[-255:], content=content, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), references=references, uploaded_by=actor.user_id,
        uploaded_at=utcnow()))


def _log(conn: Connection, actor: Actor, action: str, obj: ObjectInfo, name: str, details: dict[str, Any]) -> None:
    conn.execute(sa.insert(ConfigChange).values(actor_id=actor.user_id, action=action,
                                                target=f"{obj.api_name}: {name}"[:200], details=details))


def create_template(store: RecordStore, actor: Actor, obj_ref: str | int, *, name: Any, filename: str,
                    content: bytes, description: Any = "", language: Any = "en", groups: Any = None) -> dict[str, Any]:
    name, description, language = _name(name), _description(description), _language(language)
    with store.db.write() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        _require_configure(store, conn, schema, actor, obj)
        group_ids = _group_ids(conn, groups)
        _check_unique(conn, obj, name, None)
        references = check_upload(schema, obj, name, filename, content)
        tid = conn.execute(sa.insert(DocTemplate).values(
            object_id=obj.id, name=name, description=description, language=language, current_version=1,
            created_at=utcnow(), modified_at=utcnow()).returning(DocTemplate.id)).scalar_one()
        _add_version(conn, actor, tid, 1, filename, content, references)
        for gid in group_ids:
            conn.execute(sa.insert(DocTemplateGroup).values(template_id=tid, group_id=gid))
        _log(conn, actor, "template.create", obj, name, {"id": tid, "filename": filename, "size": len(content)})
    return get_template(store, actor, obj.id, tid)


def update_template(store: RecordStore, actor: Actor, obj_ref: str | int, template_id: int, *, name: Any = KEEP,
                    description: Any = KEEP, language: Any = KEEP, groups: Any = KEEP, filename: str | None = None,
                    content: bytes | None = None) -> dict[str, Any]:
    """Change what is given; a new file becomes the next version."""
    changes: dict[str, Any] = {}
    if name is not KEEP:
        changes["name"] = _name(name)
    if description is not KEEP:
        changes["description"] = _description(description)
    if language is not KEEP:
        changes["language"] = _language(language)
    with store.db.write() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        _require_configure(store, conn, schema, actor, obj)
        row = _row(conn, obj, template_id)
        if "name" in changes:
            _check_unique(conn, obj, changes["name"], row["id"])
        group_ids = None if groups is KEEP else _group_ids(conn, groups)
        if content is not None:
            references = check_upload(schema, obj, changes.get("name", row["name"]), filename or "template.docx",
                                      content)
            changes["current_version"] = row["current_version"] + 1
            _add_version(conn, actor, row["id"], changes["current_version"], filename or "template.docx", content,
                         references)
        conn.execute(sa.update(DocTemplate).where(DocTemplate.id == row["id"]).values(**changes, modified_at=utcnow()))
        if group_ids is not None:
            conn.execute(sa.delete(DocTemplateGroup).where(DocTemplateGroup.template_id == row["id"]))
            for gid in group_ids:
                conn.execute(sa.insert(DocTemplateGroup).values(template_id=row["id"], group_id=gid))
        _log(conn, actor, "template.update", obj, changes.get("name", row["name"]),
             {"id": row["id"], "changed": sorted(changes) + (["groups"] if group_ids is not None else [])})
    return get_template(store, actor, obj.id, row["id"])


def delete_template(store: RecordStore, actor: Actor, obj_ref: str | int, template_id: int) -> None:
    with store.db.write() as conn:
        schema = store.db.schema(conn)
        obj = schema.object(obj_ref)
        _require_configure(store, conn, schema, actor, obj)
        row = _row(conn, obj, template_id)
        conn.execute(sa.delete(DocTemplateGroup).where(DocTemplateGroup.template_id == row["id"]))
        conn.execute(sa.delete(DocTemplateVersion).where(DocTemplateVersion.template_id == row["id"]))
        conn.execute(sa.delete(DocTemplate).where(DocTemplate.id == row["id"]))
        _log(conn, actor, "template.delete", obj, row["name"], {"id": row["id"]})


def put_template(conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo, *, name: str, description: str,
                 language: str, group_ids: list[int], filename: str, content: bytes) -> str:
    """Create the template named ``name`` of ``obj``, or give it ``content`` as its next
    version when that differs, in ``conn``'s transaction (a solution import): "added",
    "changed" or "unchanged". The file is checked like an upload."""
    references = check_upload(schema, obj, name, filename, content)
    row = conn.execute(sa.select(DocTemplate).where(DocTemplate.object_id == obj.id,
                                                    DocTemplate.name == name)).mappings().first()
    if row is None:
        tid = conn.execute(sa.insert(DocTemplate).values(
            object_id=obj.id, name=name, description=description, language=language, current_version=1,
            created_at=utcnow(), modified_at=utcnow()).returning(DocTemplate.id)).scalar_one()
        _add_version(conn, actor, tid, 1, filename, content, references)
        outcome = "added"
    else:
        tid = row["id"]
        v = DocTemplateVersion.__table__.c
        current = conn.execute(sa.select(v.sha256).where(v.template_id == tid, v.number == row["current_version"])
                               ).scalar()
        same = current == hashlib.sha256(content).hexdigest() and (row["description"], row["language"]) == (
            description, language)
        if same:
            return "unchanged"
        values: dict[str, Any] = {"description": description, "language": language, "modified_at": utcnow()}
        if current != hashlib.sha256(content).hexdigest():
            values["current_version"] = row["current_version"] + 1
            _add_version(conn, actor, tid, values["current_version"], filename, content, references)
        conn.execute(sa.update(DocTemplate).where(DocTemplate.id == tid).values(**values))
        outcome = "changed"
    conn.execute(sa.delete(DocTemplateGroup).where(DocTemplateGroup.template_id == tid))
    for gid in group_ids:
        conn.execute(sa.insert(DocTemplateGroup).values(template_id=tid, group_id=gid))
    _log(conn, actor, f"template.{'create' if outcome == 'added' else 'update'}", obj, name,
         {"id": tid, "filename": filename, "size": len(content), "solution": True})
    return outcome


def export_templates(conn: Connection, schema: Schema) -> list[dict[str, Any]]:
    """Every template's current version with its settings (files as base64), for solutions."""
    rows = conn.execute(sa.select(DocTemplate).order_by(DocTemplate.object_id, DocTemplate.name)).mappings().all()
    ids = [r["id"] for r in rows]
    groups, versions = _groups(conn, ids), _versions(conn, ids, content=True)
    out = []
    for row in rows:
        if not schema.has_object(row["object_id"]) or not versions[row["id"]]:
            continue
        current = next((v for v in versions[row["id"]] if v["number"] == row["current_version"]), versions[row["id"]][0])
        out.append({"object": schema.object(row["object_id"]).api_name, "name": row["name"],
                    "description": row["description"], "language": row["language"],
                    "groups": [name for _gid, name in groups[row["id"]]], "filename": current["filename"],
                    "content": base64.b64encode(current["content"]).decode("ascii")})
    return out
