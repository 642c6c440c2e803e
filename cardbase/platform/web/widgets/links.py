"""Links (a type-ahead over the records the user may see, through ``cards.link_choices``;
a hidden input keeps the id) and users (a select of the active users)."""
from __future__ import annotations


import sqlalchemy as sa
from flask import g
from markupsafe import Markup

from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.values import LinkRef

from . import MISSING, Control, Widget, register


@register("link")
class LinkWidget(Widget):
    """raw: {"id": "42", "display": "ACME"}; the text input only searches."""

    def to_raw(self, field, value, language):
        if value is None:
            return {"id": "", "display": ""}
        if isinstance(value, LinkRef):
            if value.restricted:
                from flask_babel import gettext as _
                return {"id": str(value.id), "display": _("restricted")}
            return {"id": str(value.id), "display": value.display if value.display not in (None, "") else f"#{value.id}"}
        return {"id": str(value), "display": f"#{value}"}

    def from_form(self, form, name):
        if name not in form:
            return MISSING
        return {"id": form.get(name, "").strip(), "display": form.get(name + "-text", "")}

    def parse(self, field, raw, language):
        ident = raw.get("id") if isinstance(raw, dict) else raw
        return field.ftype.parse(field, (ident or "").strip() or None if isinstance(ident, str) else ident)

    def same(self, a, b):
        ida = (a or {}).get("id") if isinstance(a, dict) else a
        idb = (b or {}).get("id") if isinstance(b, dict) else b
        return str(ida or "") == str(idb or "")

    def control(self, c: Control) -> Markup:
        from flask_babel import gettext as _
        raw = c.raw if isinstance(c.raw, dict) else {"id": "", "display": ""}
        new_url = _new_target_url(c)
        new = Markup("")
        if new_url:
            new = Markup('<a class="btn btn-sm btn-outline-secondary cb-link-new" href="{}" target="_blank" '
                         'rel="opener" data-pick="{}" title="{}">+ {}</a>').format(
                new_url, c.id, _("Create a new one and choose it"), _("New"))
        return Markup(
            '<div class="cb-link-picker{}" data-url="{}" data-none="{}">'
            '<input type="hidden" name="{}" value="{}" class="cb-link-id"{}>'
            '<input type="text" {} value="{}" autocomplete="off" role="combobox" aria-autocomplete="list" '
            'aria-expanded="false" aria-controls="{}-list" placeholder="{}">{}'
            '<ul class="dropdown-menu cb-link-list" id="{}-list" role="listbox"></ul>'
            '</div>').format(" cb-with-new" if new_url else "", c.extra.get("url", ""), _("No matches"), c.name,
                             raw.get("id") or "", Markup(" disabled") if c.disabled else "",
                             c.attrs(name=c.name + "-text"),
                             raw.get("display") or "", c.id, _("Type to search"), new, c.id)


def _new_target_url(c: Control) -> str | None:
    """The "+ New" of a link picker: the target's new card (picking for this control), when
    the user may create and read target records -- not when the new record would be out of
    their sight for sure (record scope "none"), as it could not be chosen; None otherwise."""
    from flask import current_app, url_for

    if c.disabled or "cards.new" not in current_app.view_functions:
        return None
    from ...context import engine_session  # the request's one session

    s = engine_session()
    target = s.schema.link_target(c.field)
    caps = s.capabilities(target)
    if not (caps.can("create") and caps.can("read")) or s.new_record_readable(target) is False:
        return None
    return url_for("cards.new", object_name=target.api_name, pick=c.id)


def active_users() -> list[tuple[int, str]]:
    """(id, name) of the active users, once per request."""
    found = g.get("cardbase_user_choices")
    if found is None:
        from ...context import engine_session  # the request's one transaction
        rows = engine_session().conn.execute(sa.select(User.id, User.username, User.display_name)
                                             .where(User.active.is_(True))
                                             .order_by(User.display_name, User.username)).all()
        found = g.cardbase_user_choices = [(r.id, r.display_name or r.username) for r in rows]
    return found


@register("user")
class UserWidget(Widget):
    def to_raw(self, field, value, language):
        if value is None:
            return ""
        return str(value.id if isinstance(value, LinkRef) else value)

    def parse(self, field, raw, language):
        return field.ftype.parse(field, (raw or "").strip() or None)

    def control(self, c: Control) -> Markup:
        from flask_babel import gettext as _
        users = active_users()
        options = [Markup('<option value="">{}</option>').format(_("(nobody)"))]
        if c.raw and all(str(uid) != c.raw for uid, _n in users):
            options.append(Markup('<option value="{}" selected>#{}</option>').format(c.raw, c.raw))
        for uid, name in users:
            options.append(Markup('<option value="{}"{}>{}</option>').format(
                uid, Markup(" selected") if str(uid) == c.raw else "", name))
        return Markup('<select {}>{}</select>').format(c.attrs(css="form-select"), Markup("").join(options))



@register("links")
class MultiLinkWidget(Widget):
    """A multi-link on the card, for now shown read-only: the linked records' names (the
    API and the store write the set). The form never carries it, so saving the card
    leaves the set as it is. raw: [{"id": "42", "display": "ACME"}, ...]."""

    def to_raw(self, field, value, language):
        single = LinkWidget()
        return [single.to_raw(field, ref, language) for ref in value or ()]

    def from_form(self, form, name):
        return MISSING

    def parse(self, field, raw, language):
        return field.ftype.parse(field, [r.get("id") if isinstance(r, dict) else r for r in raw or ()])

    def same(self, a, b):
        ids = lambda raw: [str(r.get("id") if isinstance(r, dict) else r) for r in raw or ()]  # noqa: E731
        return ids(a) == ids(b)

    def control(self, c: Control) -> Markup:
        from flask import current_app, url_for

        refs = [r for r in c.raw or () if isinstance(r, dict)]
        target = None
        if "cards.card" in current_app.view_functions:
            from ...context import engine_session  # the request's one session
            target = engine_session().schema.link_target(c.field).api_name
        shown = [Markup('<a href="{}">{}</a>').format(url_for("cards.card", object_name=target, record_id=r["id"]),
                                                      r.get("display") or "")
                 if target and r.get("id") else Markup("{}").format(r.get("display") or "") for r in refs]
        return Markup('<div id="{}" class="form-control-plaintext cb-multi-link">{}</div>').format(
            c.id, Markup(", ").join(shown))
