"""The base currency and exchange rates in the configurator (issue 14, point 1):
administrators edit the whole table -- a currency, its rate to the base currency and the
days it is valid -- and save it at once; bad rows (overlapping dates, a zero rate, the
base currency itself) are shown beside their inputs and nothing is saved."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.context import current_actor, get_db
from cardbase.schema_engine import currencies
from cardbase.schema_engine.errors import ValidationError

from . import bp
from .common import require_admin, text

EMPTY_ROWS = 3
_ROW_KEY = re.compile(r"^rates\[(\d+)\](?:\.(\w+))?$")


def _rows_from_form() -> list[dict[str, str]]:
    cols = {k: request.form.getlist(f"rate_{k}") for k in ("currency", "rate", "valid_from", "valid_to")}
    count = max((len(v) for v in cols.values()), default=0)
    rows = [{k: (cols[k][i] if i < len(cols[k]) else "").strip() for k in cols} for i in range(count)]
    return [r for r in rows if any(r.values())]  # an empty row of the form is no rate


def _page(base: str, rows: list[dict[str, str]], errors: dict[str, list[str]] | None = None, status: int = 200):
    errors = errors or {}
    row_errors: dict[int, dict[str, list[str]]] = {}
    general: list[str] = []
    for key, messages in errors.items():
        m = _ROW_KEY.match(key)
        if m:
            row_errors.setdefault(int(m.group(1)), {})[m.group(2) or "currency"] = messages
        elif key != "base_currency":
            general.extend(f"{key}: {msg}" for msg in messages)
    shown = rows + [{"currency": "", "rate": "", "valid_from": "", "valid_to": ""} for _i in range(EMPTY_ROWS)]
    return render_template("designer/currencies/index.html", base=base, rows=shown, row_errors=row_errors,
                           base_errors=errors.get("base_currency", []), general=general), status


@bp.route("/currencies", methods=["GET", "POST"])
def currencies_page():
    require_admin("change the base currency and exchange rates")
    if request.method == "GET":
        with get_db().read() as conn:
            saved = currencies.to_json(currencies.read(conn))
        return _page(saved["base_currency"] or "", [
            {k: (r[k] or "") for k in ("currency", "rate", "valid_from", "valid_to")} for r in saved["rates"]])
    base, rows = text("base_currency").strip(), _rows_from_form()
    try:
        currencies.replace(get_db(), current_actor(), base, rows)
    except ValidationError as exc:
        return _page(base, rows, exc.errors, 422)
    flash(_("Currencies saved. Figures in several currencies are converted with these rates from now on."), "success")
    return redirect(url_for("designer.currencies_page"))
