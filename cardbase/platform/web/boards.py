"""Board and calendar views of any object.

``boards.board``     /o/<object>/board[/<field>]     one column per choice of a choice field
                                                     (in the choice order, plus "(none)"), with
                                                     each column's count and the sum of a number
                                                     field; cards move between columns by drag
                                                     and drop or a "Move to" select.
``boards.move``      POST /o/<object>/board/<field>/move   JSON {id, version, value}: the move is
                                                     an ordinary edit through the record store
                                                     (rights, validation, history, optimistic
                                                     locking); answers the new column totals.
``boards.calendar``  /o/<object>/calendar[/<field>]  a month grid of a date or datetime field
                                                     (?month=YYYY-MM), a list by day at phone width;
                                                     ?view=week&day=YYYY-MM-DD: the week of that day
                                                     with every entry. A day's "+" opens a new
                                                     record on that day.
``boards.reschedule`` POST /o/<object>/calendar/<field>/move  JSON {id, version, date}: an entry
                                                     dragged to another day is an ordinary edit
                                                     (a date-time keeps its local time of day).

Everything is read through the request's one engine session (purpose "read"): the column
totals are one grouped ``aggregate`` (right beyond the cards shown, and under the actor's
rights), the cards one small ``list`` per non-empty column, the calendar one ``list`` of
the grid's date range. What the actor may see and change comes from the session's
capabilities; a move is an update in the request's write session, with an Undo notice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

from babel import Locale
from babel.core import UnknownLocaleError, get_global
from babel.dates import format_date
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.schema_engine import currencies
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.field_types.choice import PALETTE, choices_of
from cardbase.schema_engine.field_types.datetime_type import display_timezone, iso_utc, to_utc_naive
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session

from ..i18n import current_language
from ..jsonio import JsonInputError, loads
from .display import display_for, render_value
from .engine import engine_session, flash_undo
from .errors import PageError, error_page
from .nav import field_label, object_label

bp = Blueprint("boards", __name__)

CARDS_PER_COLUMN = 50      # cards loaded per board column; "and N more" links to the list
CARD_LINES = 3             # further fields shown on a board card
CALENDAR_LIMIT = 500       # records loaded for one month grid
SHOWN_PER_DAY = 4          # entries shown in one day cell; "+N more" links to the list
SUM_TYPES = ("money", "decimal", "integer")
DATE_TYPES = ("date", "datetime")
NONE_KEY = ""              # the column of records without a value


# ---- shared ---------------------------------------------------------------------------------
@dataclass
class Scope:
    """The object, the request's session and what the actor may do with the object."""

    session: Session
    obj: ObjectInfo
    caps: ObjectCapabilities
    language: str = dc_field(default_factory=current_language)

    @property
    def readable(self) -> list[FieldInfo]:
        return self.caps.readable_fields

    def user_fields(self, *types: str) -> list[FieldInfo]:
        return [f for f in self.readable if not f.system and (not types or f.type in types)]

    def date_fields(self) -> list[FieldInfo]:
        """Dates and times, including date formulas and lookups of dates."""
        return [f for f in self.readable if not f.system and f.ftype.value_type in DATE_TYPES]

    def named(self, name: str) -> FieldInfo | None:
        field = self.obj.fields_by_name.get(name)
        return field if field is not None and self.caps.reads(field) else None


def _scope(object_name: str, *, write: bool = False) -> Scope:
    s = engine_session(write=write)
    if not s.schema.has_object(object_name):
        raise PageError(_("There is no object '%(name)s'.", name=object_name), 404)
    obj = s.require(object_name, "read")
    return Scope(s, obj, s.capabilities(obj))


def _error_page(exc: Exception):
    return error_page(getattr(exc, "message", str(exc)), getattr(exc, "status", 400))


def _list_filter() -> tuple[dict | None, str | None]:
    """The ``filter`` (JSON condition) and ``q`` (search) query arguments, checked."""
    raw = request.args.get("filter", "").strip()
    condition = None
    if raw:
        try:
            condition = loads(raw, what=None)  # the API's strict reader: no lone surrogates, NUL, NaN, deep nesting
        except JsonInputError as exc:
            raise PageError(_("filter: is not a valid condition (%(error)s)", error=str(exc))) from None
        if not isinstance(condition, dict):
            raise PageError(_("filter: must be a condition object like "
                              '{"field": "name", "op": "eq", "value": "x"}'))
    q = request.args.get("q", "").strip() or None
    return condition, q


def _both(a: dict | None, b: dict | None) -> dict | None:
    if a and b:
        return {"and": [a, b]}
    return a or b


def _display_text(scope: Scope, record: Mapping[str, Any]) -> str:
    shown = scope.obj.display_field
    if scope.named(shown.api_name) is None:
        shown = scope.obj.fields_by_name["code"]
    value = record.get(shown.api_name)
    text = display_for(shown).text(shown, value, scope.language) if value not in (None, "") else ""
    return text or record.get("code") or f"#{record['id']}"


def _list_url(object_name: str, condition: dict | None, q: str | None) -> str | None:
    from flask import current_app

    if "lists.index" not in current_app.view_functions:
        return None
    args: dict[str, str] = {}
    if condition:
        args["filter"] = json.dumps(condition, separators=(",", ":"), ensure_ascii=False)
    if q:
        args["q"] = q
    return url_for("lists.index", object_name=object_name, **args)


def _view_args() -> dict[str, str]:
    """The board's own query arguments, kept by links and the move call."""
    return {k: v for k, v in request.args.items() if k in ("q", "filter", "sum")}


# ---- board ----------------------------------------------------------------------------------
@dataclass
class Column:
    key: str            # the choice value; "" for records without one
    label: str
    color: str | None
    known: bool = True
    count: int = 0
    total: Any = None
    total_text: str = ""
    cards: list[dict] = dc_field(default_factory=list)
    more_url: str | None = None

    @property
    def color_class(self) -> str:
        return f"cb-color-{self.color}" if self.color in PALETTE else ""

    @property
    def data_color(self) -> str | None:
        return self.color if self.color and self.color not in PALETTE else None


def _board_field(scope: Scope, field_name: str | None) -> tuple[FieldInfo, list[FieldInfo]]:
    choice_fields = scope.user_fields("choice")
    label = object_label(scope.obj, plural=True)
    if not choice_fields:
        raise PageError(_("%(object)s have no choice field, so there is no board to show: "
                          "a board has one column per choice of a choice field.", object=label), 404)
    if field_name is None:
        return choice_fields[0], choice_fields
    chosen = next((f for f in choice_fields if f.api_name == field_name), None)
    if chosen is None:
        known = scope.named(field_name)
        if known is not None:
            raise PageError(_("'%(field)s' is not a choice field; a board needs one (choice fields: %(names)s).",
                              field=field_label(known), names=", ".join(field_label(f) for f in choice_fields)), 404)
        raise PageError(_("%(object)s have no field '%(field)s'.", object=label, field=field_name), 404)
    return chosen, choice_fields


def _sum_field(scope: Scope) -> tuple[FieldInfo | None, list[FieldInfo]]:
    candidates = scope.user_fields(*SUM_TYPES)
    if "sum" not in request.args:
        return next((f for f in candidates if f.type == "money"), None), candidates
    name = request.args.get("sum", "").strip()
    if not name:
        return None, candidates
    chosen = next((f for f in candidates if f.api_name == name), None)
    if chosen is None:
        raise PageError(_("sum: '%(field)s' is not a number or money field of %(object)s.",
                          field=name, object=object_label(scope.obj, plural=True)))
    return chosen, candidates


def _totals(scope: Scope, field: FieldInfo, sum_field: FieldInfo | None, condition: dict | None,
            q: str | None) -> dict[str, tuple[int, Any]]:
    """{choice value or "": (count, sum)} in ONE grouped query, under the actor's rights.
    A money sum is {currency: amount}: the aggregate splits amounts with a currency per
    record by currency (never one figure over EUR and GBP)."""
    metrics: list[dict] = [{"op": "count", "as": "n"}]
    if sum_field is not None:
        metrics.append({"op": "sum", "field": sum_field.api_name, "as": "total"})
    rows = scope.session.aggregate(scope.obj, AggregateQuery(
        group_by=[field.api_name], metrics=metrics, filter=condition, search=q, limit=2000), purpose="read")
    out: dict[str, tuple[int, Any]] = {}
    currency_key = f"{sum_field.api_name}:currency" if sum_field is not None else ""
    for row in rows:
        key = row[field.api_name] or NONE_KEY
        count, total = out.get(key, (0, None))
        value = row.get("total")
        if sum_field is not None and sum_field.type == "money":
            code = row.get(currency_key) or sum_field.options.get("currency") or "EUR"
            total = dict(total or {})
            if value is not None:
                total[code] = total.get(code, Decimal(0)) + Decimal(value)
        else:
            total = value
        out[key] = (count + row["n"], total)
    return out


def _total_text(sum_field: FieldInfo | None, total: Any, language: str) -> str:
    if sum_field is None:
        return ""
    if total is None:
        total = Decimal(0) if sum_field.type == "decimal" else 0
    return sum_field.ftype.format(sum_field, total, language)


def _column_total(sum_field: FieldInfo | None, column: Column, amounts: list[Any], language: str,
                  conn: Any = None) -> str:
    """The column's sum as text; money per currency, from the grouped query ("100.00 EUR
    + 50.00 GBP"), the field's own currency first; with exchange rates for today also the
    converted total and the rates it used ("= 158.50 EUR at 1 GBP = 1.17 EUR")."""
    if sum_field is None or sum_field.type != "money":
        return _total_text(sum_field, column.total, language)
    default = sum_field.options.get("currency") or "EUR"
    sums: dict[str, Decimal] = column.total or {}
    if not sums:
        return sum_field.ftype.format(sum_field, Money(Decimal(0), default), language)
    order = sorted(sums, key=lambda c: (c != default, c))
    text = " + ".join(sum_field.ftype.format(sum_field, Money(sums[c], c), language) for c in order)
    converted = currencies.convert(conn, sums, scale=sum_field.options.get("scale", 2)) \
        if conn is not None and len(sums) > 1 else None
    if converted is None:
        return text
    base = converted["currency"]
    rates = ", ".join(f"1 {code} = {rate} {base}" for code, rate in sorted(converted["rates"].items()))
    return _("%(sums)s = %(total)s at %(rates)s", sums=text, rates=rates,
             total=sum_field.ftype.format(sum_field, Money(converted["amount"], base), language))


def _card_fields(scope: Scope, field: FieldInfo, sum_field: FieldInfo | None) -> list[FieldInfo]:
    """The 2-3 further fields a card shows: the summed field first, then links, dates,
    numbers and short texts (never long texts, the board field or the display field)."""
    shown = scope.obj.display_field.api_name
    skip = {field.api_name, shown}
    candidates = [f for f in scope.user_fields() if f.api_name not in skip and f.type not in ("text", "multi_choice")]
    rank = {"money": 0, "link": 1, "date": 2, "datetime": 2, "user": 3, "choice": 4}
    ordered = sorted(candidates, key=lambda f: (0 if sum_field is not None and f.api_name == sum_field.api_name
                                                else 1 + rank.get(f.type, 5), f.position))
    return ordered[:CARD_LINES]


def _column_condition(field: FieldInfo, key: str) -> dict:
    if key == NONE_KEY:
        return {"field": field.api_name, "op": "is_empty"}
    return {"field": field.api_name, "op": "eq", "value": key}


def _board_data(scope: Scope, field: FieldInfo, sum_field: FieldInfo | None, condition: dict | None,
                q: str | None) -> list[Column]:
    totals = _totals(scope, field, sum_field, condition, q)
    columns = [Column(c["value"], c.get("label") or c["value"], c.get("color") or "gray")
               for c in choices_of(field, scope.language)]
    known = {c.key for c in columns}
    # values no longer in the choice list still show (and can be moved away from)
    columns += [Column(k, k, "gray", known=False) for k in totals if k != NONE_KEY and k not in known]
    if not field.required or totals.get(NONE_KEY):  # a required field has no "(none)" to move to
        columns.append(Column(NONE_KEY, _("(none)"), None))
    lines = _card_fields(scope, field, sum_field)
    names = ["code", "version", scope.obj.display_field.api_name, *[f.api_name for f in lines]]
    if sum_field is not None:
        names.append(sum_field.api_name)
    names = [n for n in dict.fromkeys(names) if scope.named(n) is not None]
    for column in columns:
        column.count, column.total = totals.get(column.key, (0, None))
        amounts: list[Any] = []
        if column.count == 0:
            column.total_text = _column_total(sum_field, column, amounts, scope.language, scope.session.conn)
            continue
        where = _both(condition, _column_condition(field, column.key))
        page = scope.session.list(scope.obj, ListQuery(
            filter=where, search=q, sort="-modified_at", limit=CARDS_PER_COLUMN, fields=names), purpose="read")
        for record in page.data:
            if sum_field is not None:
                amounts.append(record.get(sum_field.api_name))
            column.cards.append({
                "id": record["id"], "version": record.get("version"), "code": record.get("code"),
                "title": _display_text(scope, record),
                "lines": [(field_label(f), render_value(scope.session.schema, f, record.get(f.api_name), scope.language))
                          for f in lines if record.get(f.api_name) not in (None, "", [])],
            })
        if column.count > len(column.cards):
            column.more_url = _list_url(scope.obj.api_name, where, q)
        column.total_text = _column_total(sum_field, column, amounts, scope.language, scope.session.conn)
    return columns


def _totals_json(columns: list[Column]) -> dict[str, dict]:
    return {c.key: {"count": c.count, "total": c.total_text} for c in columns}


@bp.route("/o/<object_name>/board", endpoint="board")
@bp.route("/o/<object_name>/board/<field_name>", endpoint="board")
def board(object_name: str, field_name: str | None = None):
    try:
        scope = _scope(object_name)
        field, choice_fields = _board_field(scope, field_name)
        sum_field, sum_fields = _sum_field(scope)
        condition, q = _list_filter()
        columns = _board_data(scope, field, sum_field, condition, q)
        can_move = scope.caps.can("edit") and scope.caps.writes(field)
    except (PageError, CardbaseError) as exc:
        return _error_page(exc)
    return render_template(
        "web/boards/board.html", obj=scope.obj, field=field, choice_fields=choice_fields,
        sum_field=sum_field, sum_fields=sum_fields, columns=columns, can_move=can_move,
        q=q or "", filtered=condition is not None, view_args=_view_args(),
        list_url=_list_url(scope.obj.api_name, condition, q),
        calendar_fields=scope.date_fields(), cards_per_column=CARDS_PER_COLUMN)


@bp.route("/o/<object_name>/board/<field_name>/move", methods=["POST"], endpoint="move")
def move(object_name: str, field_name: str):
    """Move one card: ``{id, version, value}`` (JSON) or the same as a form (no script)."""
    as_json = request.is_json
    body = request.get_json(silent=True) if as_json else request.form
    try:
        scope = _scope(object_name, write=True)
        field, _fields = _board_field(scope, field_name)
        if not isinstance(body, Mapping):
            raise ValidationError({"body": 'must be a JSON object like {"id": 1, "version": 1, "value": "won"}'})
        record_id, version, value = body.get("id"), body.get("version"), body.get("value")
        if not as_json:  # form values are text
            version = int(version) if isinstance(version, str) and version.strip().isdigit() else version
        if value is not None and not isinstance(value, str):
            raise ValidationError({field.api_name: _("must be one of the choice values")})
        record = scope.session.update(scope.obj, record_id, {field.api_name: value or None}, version=version)
    except PageError as exc:
        if as_json:
            return jsonify(error="NotFound" if exc.status == 404 else "BadRequest", message=exc.message), exc.status
        return _error_page(exc)
    except CardbaseError as exc:
        if as_json:
            return jsonify(exc.to_dict()), exc.status
        flash(exc.message, "danger")
        return redirect(url_for("boards.board", object_name=object_name, field_name=field_name, **_view_args()))
    new_value = record.get(field.api_name) or NONE_KEY
    action_id = getattr(scope.session.last, "action_id", None)
    back = url_for("boards.board", object_name=object_name, field_name=field_name, **_view_args())
    if not as_json:
        flash_undo(_("%(record)s moved to %(column)s.", record=record.get("code") or record["id"],
                     column=field.ftype.format(field, new_value or None, scope.language) or _("(none)")),
                   scope.session, back)
        return redirect(back)
    try:
        sum_field, _sums = _sum_field(scope)
        condition, q = _list_filter()
        totals = _totals_json(_board_data(scope, field, sum_field, condition, q))
    except (PageError, CardbaseError):
        totals = None  # the move is saved; the page keeps its old figures
    return jsonify(ok=True, id=record["id"], version=record["version"], value=new_value, totals=totals,
                   message=_("%(record)s moved.", record=record.get("code") or record["id"]),
                   undo_url=url_for("actions.undo", action_id=action_id) if action_id is not None else None,
                   undo_next=back)


# ---- calendar -------------------------------------------------------------------------------
def _first_weekday(language: str) -> int:
    """0 = Monday ... 6 = Sunday, from Babel's data for the user's language in the
    browser's region when it names one (en-US: Sunday, en-GB: Monday), else the
    language's likely region (en: US, de: Germany)."""
    for tag, _quality in request.accept_languages:
        parts = tag.replace("-", "_").split("_")
        if parts[0].lower() == language and len(parts) > 1:
            try:
                return Locale.parse(f"{parts[0].lower()}_{parts[-1].upper()}").first_week_day
            except (ValueError, UnknownLocaleError):
                break
    likely = get_global("likely_subtags").get(language, language)
    try:
        return Locale.parse(likely).first_week_day
    except (ValueError, UnknownLocaleError):
        return 0


def _month(raw: str | None, today: date) -> date:
    if raw is None or not raw.strip():
        return today.replace(day=1)
    text = raw.strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except ValueError:
        raise PageError(_("month: '%(value)s' is not a month; write it as YYYY-MM, e.g. %(example)s.",
                          value=text, example=today.strftime("%Y-%m"))) from None


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _range_condition(field: FieldInfo, start: date, end: date) -> dict:
    """Records whose value falls on a day from ``start`` to ``end`` (inclusive), days
    counted in the display time zone for datetimes."""
    if field.ftype.value_type == "date":
        if start == end:
            return {"field": field.api_name, "op": "eq", "value": start.isoformat()}
        return {"field": field.api_name, "op": "between", "value": [start.isoformat(), end.isoformat()]}
    zone = display_timezone()
    lower = to_utc_naive(datetime.combine(start, time()), zone)
    upper = to_utc_naive(datetime.combine(end + timedelta(days=1), time()), zone)
    return {"and": [{"field": field.api_name, "op": "ge", "value": iso_utc(lower)},
                    {"field": field.api_name, "op": "lt", "value": iso_utc(upper)}]}


def _local_day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).astimezone(display_timezone()).date()
    return value if isinstance(value, date) else None


@bp.route("/o/<object_name>/calendar", endpoint="calendar")
@bp.route("/o/<object_name>/calendar/<field_name>", endpoint="calendar")
def calendar(object_name: str, field_name: str | None = None):
    try:
        scope = _scope(object_name)
        date_fields = scope.date_fields()
        label = object_label(scope.obj, plural=True)
        if not date_fields:
            raise PageError(_("%(object)s have no date field, so there is no calendar to show.", object=label), 404)
        field = date_fields[0] if field_name is None else next(
            (f for f in date_fields if f.api_name == field_name), None)
        if field is None:
            known = scope.named(field_name)
            if known is not None:
                raise PageError(_("'%(field)s' is not a date field; a calendar needs one (date fields: %(names)s).",
                                  field=field_label(known), names=", ".join(field_label(f) for f in date_fields)), 404)
            raise PageError(_("%(object)s have no field '%(field)s'.", object=label, field=field_name), 404)
        today = datetime.now(timezone.utc).astimezone(display_timezone()).date()
        week = None
        if request.args.get("view") == "week":
            day = _day(request.args.get("day"), today)
            week = _week_of(day, _first_weekday(scope.language))
            first = week[0].replace(day=1)
        else:
            first = _month(request.args.get("month"), today)
        condition, q = _list_filter()
        data = _calendar_data(scope, field, first, today, condition, q, week)
        can_move = scope.caps.can("edit") and scope.caps.writes(field) and field.writable
        can_create = scope.caps.can("create") and scope.caps.writes(field) and field.writable
    except (PageError, CardbaseError) as exc:
        return _error_page(exc)
    args = {k: v for k, v in request.args.items() if k in ("q", "filter")}
    week_nav = {}
    if week is not None:
        week_nav = {"week_label": _("%(start)s – %(end)s", start=format_date(week[0], "medium", locale=scope.language),
                                    end=format_date(week[1], "medium", locale=scope.language)),
                    "prev_week": (week[0] - timedelta(days=7)).isoformat(),
                    "next_week": (week[0] + timedelta(days=7)).isoformat(), "week_day": week[0].isoformat()}
    return render_template(
        "web/boards/calendar.html", obj=scope.obj, field=field, date_fields=date_fields, q=q or "",
        filtered=condition is not None, view_args=args, month_label=format_date(first, "LLLL y", locale=scope.language),
        month=first.strftime("%Y-%m"), prev_month=_add_months(first, -1).strftime("%Y-%m"),
        next_month=_add_months(first, 1).strftime("%Y-%m"), this_month=today.strftime("%Y-%m"),
        list_url=_list_url(scope.obj.api_name, condition, q), week=week is not None, today_iso=today.isoformat(),
        can_move=can_move, can_create=can_create, new_value_suffix="T09:00" if field.ftype.value_type == "datetime" else "",
        choice_fields=scope.user_fields("choice"), **week_nav, **data)


@bp.route("/o/<object_name>/calendar/<field_name>/move", methods=["POST"], endpoint="reschedule")
def reschedule(object_name: str, field_name: str):
    """Drag an entry to another day: ``{id, version, date}`` (JSON). A date field takes the
    day; a date-time keeps its time of day in the display time zone. An ordinary edit
    (rights, validation, history, optimistic locking) with an Undo."""
    body = request.get_json(silent=True)
    try:
        scope = _scope(object_name, write=True)
        field = next((f for f in scope.date_fields() if f.api_name == field_name), None)
        if field is None:
            raise PageError(_("%(object)s have no date field '%(field)s'.", object=object_label(scope.obj, plural=True),
                              field=field_name[:80]), 404)
        if not isinstance(body, Mapping):
            raise ValidationError({"body": 'must be a JSON object like {"id": 1, "version": 1, "date": "2026-12-24"}'})
        try:
            day = date.fromisoformat(str(body.get("date") or ""))
        except ValueError:
            raise ValidationError({"date": _("'%(value)s' is not a day; write it as YYYY-MM-DD, e.g. %(example)s.",
                                             value=str(body.get("date") or "")[:20], example="2026-12-24")}) from None
        record_id = body.get("id")
        value: Any = day.isoformat()
        if field.ftype.value_type == "datetime":
            current = scope.session.get(scope.obj, record_id).get(field.api_name)
            clock = (current.replace(tzinfo=timezone.utc).astimezone(display_timezone()).time()
                     if isinstance(current, datetime) else time(9, 0))
            value = iso_utc(to_utc_naive(datetime.combine(day, clock), display_timezone()))
        record = scope.session.update(scope.obj, record_id, {field.api_name: value}, version=body.get("version"))
    except PageError as exc:
        return jsonify(error="NotFound" if exc.status == 404 else "BadRequest", message=exc.message), exc.status
    except CardbaseError as exc:
        return jsonify(exc.to_dict()), exc.status
    action_id = getattr(scope.session.last, "action_id", None)
    back = url_for("boards.calendar", object_name=object_name, field_name=field_name)
    label = format_date(day, "medium", locale=scope.language)
    return jsonify(ok=True, id=record["id"], version=record["version"], date=day.isoformat(),
                   message=_("%(record)s moved to %(day)s.", record=record.get("code") or record["id"], day=label),
                   undo_url=url_for("actions.undo", action_id=action_id) if action_id is not None else None,
                   undo_next=back)


def _day(raw: str | None, today: date) -> date:
    """?day=YYYY-MM-DD of the week view (default today)."""
    if raw is None or not raw.strip():
        return today
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise PageError(_("day: '%(value)s' is not a day; write it as YYYY-MM-DD, e.g. %(example)s.",
                          value=raw.strip()[:20], example=today.isoformat())) from None


def _week_of(day: date, week_start: int) -> tuple[date, date]:
    start = day - timedelta(days=(day.weekday() - week_start) % 7)
    return start, start + timedelta(days=6)


def _calendar_data(scope: Scope, field: FieldInfo, first: date, today: date, condition: dict | None,
                   q: str | None, week_span: tuple[date, date] | None = None) -> dict[str, Any]:
    """The month grid holding ``first``, or with ``week_span`` the seven days of that week
    (every entry shown)."""
    last = _add_months(first, 1) - timedelta(days=1)
    week_start = _first_weekday(scope.language)
    start = first - timedelta(days=(first.weekday() - week_start) % 7)
    end = last + timedelta(days=(week_start + 6 - last.weekday()) % 7)
    per_day = SHOWN_PER_DAY
    if week_span is not None:
        start, end = week_span
        per_day = CALENDAR_LIMIT
    colour_field = next(iter(scope.user_fields("choice")), None)
    names = ["code", "version", field.api_name, scope.obj.display_field.api_name]
    if colour_field is not None:
        names.append(colour_field.api_name)
    names = [n for n in dict.fromkeys(names) if scope.named(n) is not None]
    where = _both(condition, _range_condition(field, start, end))
    page = scope.session.list(scope.obj, ListQuery(
        filter=where, search=q, sort=[field.api_name, "id"], limit=CALENDAR_LIMIT, fields=names), purpose="read")
    by_day: dict[date, list[dict]] = {}
    for record in page.data:
        day = _local_day(record.get(field.api_name))
        if day is None:
            continue
        value = record.get(field.api_name)
        colour = None
        if colour_field is not None and record.get(colour_field.api_name):
            choice = next((c for c in choices_of(colour_field) if c["value"] == record[colour_field.api_name]), None)
            colour = (choice or {}).get("color")
        by_day.setdefault(day, []).append({
            "id": record["id"], "version": record.get("version"), "title": _display_text(scope, record),
            "time": (value.replace(tzinfo=timezone.utc).astimezone(display_timezone()).strftime("%H:%M")
                     if isinstance(value, datetime) else ""),
            "color_class": f"cb-color-{colour}" if colour in PALETTE else "",
            "data_color": colour if colour and colour not in PALETTE else None,
        })
    counts = {day: len(items) for day, items in by_day.items()}
    if page.has_more:  # the last loaded day and the days after it may hold more
        last_loaded = max(by_day) if by_day else start
        day = last_loaded
        while day <= end:
            counts[day], _estimate = scope.session.count(
                scope.obj, filter=_both(condition, _range_condition(field, day, day)), search=q, purpose="read")
            day += timedelta(days=1)
    weeks, day = [], start
    while day <= end:
        week = []
        for _i in range(7):
            items = by_day.get(day, [])
            count = counts.get(day, 0)
            week.append({
                "date": day, "iso": day.isoformat(), "number": day.day,
                "in_month": week_span is not None or day.month == first.month,
                "today": day == today, "items": items[:per_day], "all_items": items, "count": count,
                "more": max(0, count - min(len(items), per_day)),
                "more_all": max(0, count - len(items)),
                "more_url": (_list_url(scope.obj.api_name, _both(condition, _range_condition(field, day, day)), q)
                             if count > min(len(items), per_day) else None),
                "label": format_date(day, "EEEE, d MMMM y" if scope.language == "en" else "EEEE, d. MMMM y",
                                     locale=scope.language),
            })
            day += timedelta(days=1)
        weeks.append(week)
    locale = Locale.parse(scope.language)
    names_of_days = locale.days["stand-alone"]["abbreviated"]
    weekdays = [names_of_days[(week_start + i) % 7] for i in range(7)]
    return {"weeks": weeks, "weekdays": weekdays, "truncated": page.has_more, "limit": CALENDAR_LIMIT,
            "empty": not any(counts.values())}
