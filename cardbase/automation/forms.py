"""Public web forms: one object's subset of fields at /f/<slug>, creating records through the pipeline.

A form names the fields it shows and fixed values for hidden fields (source = website),
which a post cannot override. Anonymous posts create the record as the form's actor (a
named user chosen by whoever made the form: its rights apply); a signed-in call-centre
operator posting the same form acts as themselves. Protection, in order: size limits
(fields, characters), a honeypot field (filled: the post is accepted and dropped, so a
bot learns nothing), a rate limit per network address, then the ordinary validation --
a field that is not on the form is refused by name.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.automation_models import FormHit, WebForm
from cardbase.schema_engine.errors import CardbaseError, NotFound, ValidationError
from cardbase.schema_engine.store.operations import CreateOp
from cardbase.schema_engine.store.session import Session

from . import clock, http_out
from .actors import actor_of, user_id_by_name

FORMS = WebForm.__table__
HITS = FormHit.__table__
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HONEYPOT = "website_url"  # hidden from people by CSS; bots fill it
IGNORED = {"csrf_token", HONEYPOT}
RATE_LIMIT = 10  # posts per address ...
RATE_WINDOW = timedelta(minutes=10)  # ... in this window
MAX_FIELDS = 50
MAX_VALUE = 5000
SETTINGS = {"slug", "title", "object", "fields", "fixed", "confirmation", "redirect_url", "actor", "active"}


class RateLimited(CardbaseError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many posts from your address: try again in {retry_after} seconds")
        self.retry_after = retry_after


# ---- definitions ---------------------------------------------------------------------------------
def _check(tx: Session, spec: Mapping[str, Any], current_id: int | None = None) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValidationError({"form": "must be a JSON object"})
    unknown = set(spec) - SETTINGS
    if unknown:
        raise ValidationError({k: "is not a form setting" for k in sorted(unknown)})
    slug = spec.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ValidationError({"slug": "must be 1-63 lower-case letters, digits and hyphens (it is the URL /f/<slug>)"})
    taken = sa.select(FORMS.c.id).where(FORMS.c.slug == slug)
    if current_id is not None:
        taken = taken.where(FORMS.c.id != current_id)
    if tx.conn.execute(taken).first() is not None:
        raise ValidationError({"slug": f"the form /f/{slug} already exists"})
    title = spec.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise ValidationError({"title": "is required: a text of at most 200 characters"})
    name = spec.get("object")
    if not isinstance(name, str) or not tx.schema.has_object(name):
        raise ValidationError({"object": f"there is no object {name!r}"})
    obj = tx.require(name, "configure")
    fields = spec.get("fields")
    if not isinstance(fields, list) or not fields or len(fields) > MAX_FIELDS:
        raise ValidationError({"fields": f"must be a list of 1 to {MAX_FIELDS} field names"})
    for f in fields:
        field = obj.fields_by_name.get(f) if isinstance(f, str) else None
        if field is None or field.system or not field.writable:
            raise ValidationError({"fields": f"{f!r} is not a field of '{obj.api_name}' a form can fill"})
    fixed = spec.get("fixed") or {}
    if not isinstance(fixed, Mapping):
        raise ValidationError({"fixed": "must be an object of field names and values"})
    for f in fixed:
        if f not in obj.fields_by_name:
            raise ValidationError({"fixed": f"'{obj.api_name}' has no field {f!r}"})
        if f in fields:
            raise ValidationError({"fixed": f"'{f}' is shown on the form: it cannot also be fixed"})
    redirect = spec.get("redirect_url") or ""
    if redirect:
        http_out.parse_target(redirect, "redirect_url")
    confirmation = spec.get("confirmation") or ""
    if not isinstance(confirmation, str) or len(confirmation) > 2000:
        raise ValidationError({"confirmation": "must be a text of at most 2000 characters"})
    actor_id = tx.actor.user_id if spec.get("actor") is None else user_id_by_name(tx.conn, spec["actor"])
    if actor_id is None:
        raise ValidationError({"actor": "name the user the form's records are created as"})
    if actor_id != tx.actor.user_id and not tx.actor.is_admin:
        raise ValidationError({"actor": "only an administrator may let a form act as someone else"})
    active = spec.get("active", True)
    if not isinstance(active, bool):
        raise ValidationError({"active": "must be true or false"})
    return {"slug": slug, "title": title.strip(), "object_id": obj.id, "fields": fields, "fixed": dict(fixed),
            "confirmation": confirmation, "redirect_url": redirect, "actor_id": actor_id, "active": active}


def _json(schema, row: Mapping[Any, Any]) -> dict[str, Any]:
    obj = schema.object(row["object_id"]) if schema.has_object(row["object_id"]) else None
    return {"id": row["id"], "slug": row["slug"], "title": row["title"], "object": obj.api_name if obj else None,
            "fields": row["fields"], "fixed": row["fixed"], "confirmation": row["confirmation"],
            "redirect_url": row["redirect_url"], "actor": row["actor_id"], "active": row["active"],
            "url": f"/f/{row['slug']}"}


def _row(tx: Session, form_id: Any) -> Mapping[Any, Any]:
    try:
        fid = int(form_id)
    except (TypeError, ValueError):
        raise NotFound(f"there is no form {form_id!r}") from None
    row = tx.conn.execute(sa.select(FORMS).where(FORMS.c.id == fid)).mappings().first()
    if row is None or not (tx.actor.is_admin or (tx.schema.has_object(row["object_id"])
                                                 and tx.can(row["object_id"], "configure"))):
        raise NotFound(f"there is no form {form_id!r}")
    return row


def create(tx: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    values = _check(tx, spec)
    fid: int = tx.conn.execute(sa.insert(FORMS).returning(FORMS.c.id), values).scalar_one()
    return get(tx, fid)


def get(tx: Session, form_id: Any) -> dict[str, Any]:
    return _json(tx.schema, _row(tx, form_id))


def list_all(tx: Session) -> list[dict[str, Any]]:
    rows = tx.conn.execute(sa.select(FORMS).order_by(FORMS.c.slug)).mappings()
    return [_json(tx.schema, r) for r in rows
            if tx.actor.is_admin or (tx.schema.has_object(r["object_id"]) and tx.can(r["object_id"], "configure"))]


def update(tx: Session, form_id: Any, spec: Mapping[str, Any]) -> dict[str, Any]:
    row = _row(tx, form_id)
    current = _json(tx.schema, row)
    merged = {k: current[k] for k in SETTINGS if k in current and k != "actor"}
    merged["actor"] = row["actor_id"]
    merged.update(spec)
    values = _check(tx, merged, row["id"])
    tx.conn.execute(sa.update(FORMS).where(FORMS.c.id == row["id"]).values(**values))
    return get(tx, row["id"])


def delete(tx: Session, form_id: Any) -> None:
    row = _row(tx, form_id)
    tx.conn.execute(sa.delete(FORMS).where(FORMS.c.id == row["id"]))


def public(conn: Connection, schema, slug: str) -> dict[str, Any]:
    """The form as its page shows it (no rights needed: it is public)."""
    row = conn.execute(sa.select(FORMS).where(FORMS.c.slug == slug, FORMS.c.active.is_(True))).mappings().first()
    if row is None or not schema.has_object(row["object_id"]):
        raise NotFound(f"there is no form '{slug}'")
    obj = schema.object(row["object_id"])
    out = _json(schema, row)
    out["field_infos"] = [obj.fields_by_name[f] for f in row["fields"] if f in obj.fields_by_name]
    out["object_info"] = obj
    return out


# ---- posts ---------------------------------------------------------------------------------------
def _rate_limit(conn: Connection, address: str) -> None:
    now = clock.now()
    recent = conn.execute(sa.select(sa.func.count()).select_from(HITS).where(
        HITS.c.address == address, HITS.c.at > now - RATE_WINDOW)).scalar_one()
    if recent >= RATE_LIMIT:
        raise RateLimited(int(RATE_WINDOW.total_seconds()))
    conn.execute(sa.insert(HITS), {"address": address[:64], "at": now})
    conn.execute(sa.delete(HITS).where(HITS.c.at < now - RATE_WINDOW))


def submit(store: Any, slug: str, data: Mapping[str, Any], address: str, *, operator: Actor | None = None
           ) -> dict[str, Any]:
    """Create a record from a post. Returns {"id", "confirmation", "redirect_url", "dropped"}."""
    if not isinstance(data, Mapping) or len(data) > MAX_FIELDS + len(IGNORED):
        raise ValidationError({"form": f"too many fields (at most {MAX_FIELDS})"})
    for key, value in data.items():
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise ValidationError({str(key)[:63]: f"must be a text of at most {MAX_VALUE} characters"})
    with store.db.write() as conn:
        form = public(conn, store.db.schema(conn), slug)
        if operator is None:  # an operator signed in is not rate-limited as an address
            _rate_limit(conn, address)
    answer = {"id": None, "confirmation": form["confirmation"], "redirect_url": form["redirect_url"], "dropped": False}
    if (data.get(HONEYPOT) or "").strip():
        answer["dropped"] = True
        return answer
    extra = sorted(k for k in data if k not in form["fields"] and k not in IGNORED)
    if extra:
        raise ValidationError({k: "is not on this form" for k in extra})
    values: dict[str, Any] = {k: v for k, v in data.items() if k in form["fields"] and v.strip()}
    values.update(form["fixed"])  # hidden fields: never what the post says
    with store.db.write() as conn:
        who = operator or actor_of(conn, form["actor"], "actor")
        tx = Session(store, conn, who, write=True, savepoints=False)
        [rid] = tx.apply(CreateOp(tx.object(form["object_info"].id), [values], single=True, importing=True))
    answer["id"] = rid
    return answer
