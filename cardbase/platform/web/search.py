"""The global search of the navigation bar: the same full-text search as a list's quick
search, run on every object the user may read (one store query each: a few hits and the
capped count), grouped by object with links to the cards and to the full result list."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.query.model import MAX_SEARCH, ListQuery

from ..i18n import current_language
from .display import display_for
from .engine import engine_session
from .lists import count_text

bp = Blueprint("search", __name__)

HITS_PER_OBJECT = 5


@bp.route("/search")
def results():
    q = request.args.get("q", "").strip()
    s = engine_session()
    language = current_language()
    groups: list[dict[str, Any]] = []
    error = None
    if len(q) > MAX_SEARCH:
        error = _("Search: at most %(n)s characters are allowed.", n=MAX_SEARCH)
    elif q:
        has_card = "cards.card" in current_app.view_functions
        for obj in s.objects_with("read"):  # the objects the user may read, in menu order
            shown = obj.display_field if s.capabilities(obj).reads(obj.display_field) else obj.fields_by_name["code"]
            fields = list(dict.fromkeys([shown.api_name, "code"]))
            try:
                page = s.list(obj, ListQuery(search=q, limit=HITS_PER_OBJECT, fields=fields), purpose="read")
            except ValidationError as exc:
                error = exc.message
                break
            except CardbaseError:
                continue
            if not page.data:
                continue
            hits = []
            for record in page.data:
                text = display_for(shown).text(shown, record.get(shown.api_name), language) or record.get("code") or ""
                hits.append({"id": record["id"], "text": text, "code": record.get("code"),
                             "url": url_for("cards.card", object_name=obj.api_name, record_id=record["id"])
                             if has_card else None})
            groups.append({"name": obj.api_name, "label": obj.label_plural_in(language), "hits": hits,
                           "count": count_text(page), "more": page.next_cursor is not None,
                           "list_url": url_for("lists.index", object_name=obj.api_name, q=q)})
    return render_template("web/search.html", q=q, groups=groups, error=error), 400 if error else 200
