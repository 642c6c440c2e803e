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
        new = _new_button(c, _("Create a new one and choose it"))
        return Markup(
            '<div class="cb-link-picker{}" data-url="{}" data-none="{}">'
            '<input type="hidden" name="{}" value="{}" class="cb-link-id"{}>'
            '<input type="text" {} value="{}" autocomplete="off" role="combobox" aria-autocomplete="list" '
            'aria-expanded="false" aria-controls="{}-list" placeholder="{}">{}'
            '<ul class="dropdown-menu cb-link-list" id="{}-list" role="listbox"></ul>'
            '</div>').format(" cb-with-new" if new else "", c.extra.get("url", ""), _("No matches"), c.name,
                             raw.get("id") or "", Markup(" disabled") if c.disabled else "",
                             c.attrs(name=c.name + "-text"),
                             raw.get("display") or "", c.id, _("Type to search"), new, c.id)


def _new_button(c: Control, title: str) -> Markup:
    """The picker's "+ New" (a new target record in its own window, handed back to the
    picker), or nothing where the user may not create one that they could then read."""
    from flask_babel import gettext as _
    new_url = _new_target_url(c)
    if not new_url:
        return Markup("")
    return Markup('<a class="btn btn-sm btn-outline-secondary cb-link-new" href="{}" target="_blank" '
                  'rel="opener" data-pick="{}" title="{}">+ {}</a>').format(new_url, c.id, title, _("New"))


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
    """A multi-link (several records) as a small table of the linked records, each row a
    link to its card with a "Remove" button, and an "Add" type-ahead (the link picker,
    "+ New" included) below it that appends rows. raw: [{"id": "42", "display": "ACME"}, ...].

    Each row carries hidden inputs ``<name>`` (the id) and ``<name>-text`` (what was shown,
    so a card answered with errors shows the rows as chosen); ``<name>-present`` tells an
    emptied list from a control that was not submitted. The whole set is saved with the
    card in one POST (the store checks every new target and replaces the set, all or
    nothing)."""

    def to_raw(self, field, value, language):
        return [LinkWidget().to_raw(field, ref, language) for ref in value or ()]

    def from_form(self, form, name):
        if name + "-present" not in form:
            return MISSING
        ids = [i.strip() for i in form.getlist(name)]
        texts = form.getlist(name + "-text")
        texts += [""] * (len(ids) - len(texts))
        return [{"id": i, "display": t or f"#{i}"} for i, t in zip(ids, texts) if i]

    def parse(self, field, raw, language):
        ids = [item.get("id") if isinstance(item, dict) else item for item in raw or ()]
        return field.ftype.parse(field, [i for i in ids if i not in (None, "")])

    def same(self, a, b):
        def ids(raw):
            return [str(item.get("id") if isinstance(item, dict) else item) for item in raw or ()]
        return ids(a) == ids(b)

    def control(self, c: Control) -> Markup:
        from flask import url_for
        from flask_babel import gettext as _

        from ...context import engine_session

        from ..display import align_for
        from ..multi_link_cells import cells, extra_columns

        rows = [item for item in (c.raw if isinstance(c.raw, list) else []) if isinstance(item, dict)]
        s = engine_session()
        target = s.schema.link_target(c.field)
        card_url = url_for("cards.card", object_name=target.api_name, record_id=0)[:-1]
        columns = extra_columns(s, target)
        ids = [int(item["id"]) for item in rows if str(item.get("id") or "").isdigit()]
        filled = cells(s, target, columns, ids, c.language)
        blank = Markup("").join(Markup("<td></td>") for _f in columns)
        body = Markup("").join(_multi_row(c, item, card_url, Markup("").join(
            filled.get(int(item["id"]), [blank]) if str(item.get("id") or "").isdigit() else [blank]))
            for item in rows)
        head = Markup("")
        if columns:
            language = c.language
            head = Markup('<thead><tr><th scope="col">{}</th>{}{}</tr></thead>').format(
                target.display_field.label_in(language),
                Markup("").join(Markup('<th scope="col" class="text-{}">{}</th>').format(
                    align_for(f), f.label_in(language)) for f in columns),
                Markup('<th scope="col"><span class="visually-hidden">{}</span></th>').format(_("Remove"))
                if not c.disabled else "")
        picker = Markup("")
        present = Markup("")
        if not c.disabled:
            present = Markup('<input type="hidden" name="{}-present" value="1">').format(c.name)
            new = _new_button(c, _("Create a new one and add it"))
            picker = Markup(
                '<div class="cb-link-picker cb-multi-picker{}" data-url="{}" data-none="{}">'
                '<input type="text" {} value="" autocomplete="off" role="combobox" aria-autocomplete="list" '
                'aria-expanded="false" aria-controls="{}-list" placeholder="{}">{}'
                '<ul class="dropdown-menu cb-link-list" id="{}-list" role="listbox"></ul>'
                '</div>').format(" cb-with-new" if new else "",
                                 c.extra.get("url", "") + ("?cells=1" if columns else ""), _("No matches"),
                                 c.attrs(name=c.name + "-search", css="form-control form-control-sm"), c.id,
                                 _("Add: type to search"), new, c.id)
        return Markup(
            '<div class="cb-multi-link{}" data-name="{}" data-card-url="{}" data-remove="{}" data-removed="{}" '
            'data-added="{}">{}'
            '<table class="table table-sm align-middle mb-1 cb-multi-table" aria-label="{}">{}<tbody>{}</tbody></table>'
            '<p class="small text-body-secondary mb-1 cb-multi-empty"{}>{}</p>{}'
            '<div class="visually-hidden cb-multi-status" role="status" aria-live="polite"></div></div>').format(
            " is-invalid" if c.invalid else "", c.name, card_url, _("Remove"), _("Removed: %(name)s", name="{name}"),
            _("Added: %(name)s", name="{name}"), present, c.label, head, body,
            Markup(" hidden") if rows else "", _("No records linked yet."), picker)


def _multi_row(c: Control, item: dict, card_url: str, extra: Markup) -> Markup:
    """One linked record of a multi-link control: its name (a link to its card), the
    hidden inputs that carry it, and its "Remove" button."""
    from flask_babel import gettext as _

    ident, shown = str(item.get("id") or ""), str(item.get("display") or f"#{item.get('id')}")
    name = Markup('<a href="{}{}">{}</a>').format(card_url, ident, shown) if ident.isdigit() else Markup("{}").format(shown)
    if c.disabled:
        return Markup('<tr class="cb-multi-row" data-id="{}"><td>{}</td>{}</tr>').format(ident, name, extra)
    return Markup(
        '<tr class="cb-multi-row" data-id="{}"><td>{}<input type="hidden" name="{}" value="{}">'
        '<input type="hidden" name="{}-text" value="{}"></td>{}'
        '<td class="text-end"><button type="button" class="btn btn-sm btn-outline-secondary cb-multi-remove" '
        'aria-label="{}" title="{}">×</button></td></tr>').format(
        ident, name, c.name, ident, c.name, shown, extra, f"{_('Remove')}: {shown}", _("Remove"))
