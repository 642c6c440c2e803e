"""The import wizard and the duplicates screen of an object (``cardbase.transfer`` does the
work; rights are the record store's):

1. upload (``/o/<object>/import``): the file, its locale and the phone region;
2. mapping (``/o/<object>/import/<job>``): each column's field, proposed from labels
   and API names in both languages or a saved mapping, the mode and key, what to do with
   bad rows, the duplicate rules; "Preview" runs the whole import and rolls it back, showing
   the first rows with every cell's error and the duplicate groups, each with a decision;
3. run: the job starts in the background; its page shows a progress bar (rows done, rate,
   time left), can cancel it and offers the bad rows as XLSX.

``/o/<object>/duplicates`` finds duplicates by match rules and merges a group: per
field the value of the record picked, children and shares to the survivor, one action
(undoable from the notice)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.transfer_models import TransferJob
from cardbase.transfer import jobs
from cardbase.transfer.cells import LOCALES
from cardbase.transfer.importer import DUPLICATE_ACTIONS, MODES, Importer, ImportSettings
from cardbase.transfer.mapping import best_saved, propose, save_mapping, saved_mappings, targets
from cardbase.transfer.merge import find_duplicates, merge
from cardbase.transfer.readers import copy_stream, max_file_bytes, open_sheet

from ..context import current_actor, engine_session, get_store
from .errors import error_page
from .nav import field_label, object_label

bp = Blueprint("transfer", __name__)
_jobs = TransferJob.__table__
RULES = {"email": [["email"]], "phone": [["phone"]], "name_city": [["name", "city"]]}


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    return error_page(exc.message, 403, title=_("Not allowed"))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound):
    return error_page(exc.message, 404, title=_("Not found"))


def _object(object_name: str, right: str = "create"):
    session = engine_session()
    obj = session.object(object_name)
    session.require(obj, right)
    return session, obj


def _draft(job_id: int, obj) -> dict[str, Any]:
    with get_store().db.read() as conn:
        job = conn.execute(sa.select(_jobs).where(_jobs.c.id == job_id)).mappings().first()
    if job is None or job["object_id"] != obj.id or job["actor_id"] != current_actor().user_id:
        abort(404)
    return dict(job)


@bp.route("/o/<object_name>/import", methods=["GET", "POST"])
def upload(object_name: str):
    session, obj = _object(object_name)
    error = None
    limit = max_file_bytes()
    if request.method == "POST" and (request.content_length or 0) > limit:  # refused before the file is read
        error = _("The file is %(size)s MB; the limit is %(limit)s MB.", size=f"{request.content_length / 1048576:.1f}",
                  limit=f"{limit / 1048576:.0f}")
    elif request.method == "POST":
        request.max_content_length = limit + 1024 * 1024  # room for the form around the file
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a CSV or XLSX file.")
        else:
            try:
                path = copy_stream(upload.stream, jobs.job_dir(), upload.filename)
                options = {k: request.form[k] for k in ("sheet", "encoding", "delimiter") if request.form.get(k)}
                open_sheet(path, name=upload.filename, **options)
                settings = ImportSettings({}, locale=request.form.get("locale") or "auto",
                                          region=request.form.get("region") or None)
                with get_store().session(current_actor(), write=True) as tx:
                    job_id = jobs.create_job(tx.conn, current_actor(), obj.id, path, upload.filename, settings, options)
                    tx.conn.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(state="draft"))
                return redirect(url_for("transfer.mapping", object_name=obj.api_name, job_id=job_id))
            except (CardbaseError, ValueError) as exc:
                error = getattr(exc, "message", str(exc))
    return render_template("web/transfer/upload.html", obj=obj, plural=object_label(obj, plural=True),
                           locales=LOCALES, error=error)


def _settings_from_form(columns: list[str]) -> dict[str, Any]:
    form = request.form
    mapping = {c: form.get(f"map_{i}", "") for i, c in enumerate(columns)}
    rules = [RULES[r][0] for r in form.getlist("rule") if r in RULES]
    actions = {k[len("group_"):]: v for k, v in form.items() if k.startswith("group_") and v in DUPLICATE_ACTIONS}
    key = [k for k in form.get("key", "code").split("+") if k]
    return {"mapping": {c: f for c, f in mapping.items() if f}, "mode": form.get("mode", "create"), "key": key,
            "atomic": form.get("atomic") == "1", "locale": form.get("locale") or "auto",
            "region": form.get("region") or None, "duplicate_rules": rules, "duplicate_actions": actions,
            "duplicate_default": form.get("duplicate_default", "skip")}


@bp.route("/o/<object_name>/import/<int:job_id>", methods=["GET", "POST"])
def mapping(object_name: str, job_id: int):
    session, obj = _object(object_name)
    job = _draft(job_id, obj)
    if job["state"] != "draft":
        return redirect(url_for("transfer.progress", job_id=job_id))
    actor = current_actor()
    sheet = open_sheet(job["file_path"], name=job["file_name"], **job["settings"].get("file", {}))
    stored = job["settings"]["import"]
    header_line, columns, warnings = Importer(get_store(), actor, obj.api_name, sheet,
                                              ImportSettings.from_json({**stored, "mapping": {}})).layout()
    writable = lambda f: session.access.field_writable(obj, f)  # noqa: E731
    saved = saved_mappings(session.conn, obj)
    proposal = propose(obj, columns, writable, best_saved(saved, columns))
    document = {**stored, "mapping": {c: f for c, f in proposal.items() if f}}
    preview = problems = None
    if request.method == "POST":
        document = _settings_from_form(columns)
        try:
            settings = ImportSettings.from_json(document)
            if request.form.get("step") == "run":
                if request.form.get("save_as", "").strip():
                    with get_store().session(actor, write=True) as tx:
                        save_mapping(tx.conn, obj, request.form["save_as"], settings.mapping,
                                     {k: v for k, v in settings.to_json().items() if k != "mapping"}, actor.user_id)
                with get_store().db.write() as conn:
                    conn.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(
                        state="queued", settings={**job["settings"], "import": settings.to_json()}))
                jobs.start_job(get_store(), jobs.ThreadRunner() if not _inline() else jobs.InlineRunner(), job_id, actor)
                return redirect(url_for("transfer.progress", job_id=job_id))
            preview = Importer(get_store(), actor, obj.api_name, sheet, settings).run(dry_run=True).to_json()
        except CardbaseError as exc:
            problems = exc.message
    fields = [(t.api_name, _target_label(obj, t.api_name)) for t in targets(obj, writable)]
    return render_template("web/transfer/mapping.html", obj=obj, plural=object_label(obj, plural=True), job=job,
                           columns=columns, header_line=header_line, warnings=warnings, fields=fields,
                           document=document, preview=preview, problems=problems, modes=MODES, locales=LOCALES,
                           actions=DUPLICATE_ACTIONS, rules=list(RULES), saved=saved,
                           chosen_rules=[k for k, v in RULES.items() if v[0] in document.get("duplicate_rules", [])])


def _inline() -> bool:
    from flask import current_app

    return current_app.config.get("CARDBASE_IMPORT_RUNNER") == "inline"


def _runner() -> jobs.JobRunner:
    return jobs.InlineRunner() if _inline() else jobs.ThreadRunner()


def _target_label(obj, name: str) -> str:
    if name == "code":
        return _("Code")
    if name == "id":
        return "ID"
    return field_label(obj.field(name))


@bp.get("/imports/<int:job_id>")
def progress(job_id: int):
    status = _status(job_id)
    return render_template("web/transfer/progress.html", status=status, job_id=job_id)


def _status(job_id: int) -> dict[str, Any]:
    try:
        return jobs.job_status(get_store().db, current_actor(), job_id)
    except CardbaseError:
        abort(404)


@bp.get("/imports/<int:job_id>/status")
def status(job_id: int):
    return jsonify(_status(job_id))


@bp.post("/imports/<int:job_id>/cancel")
def cancel(job_id: int):
    try:
        jobs.cancel_job(get_store().db, current_actor(), job_id)
        flash(_("The import stops after the rows it is writing now."))
    except ValidationError as exc:
        flash(exc.message)
    return redirect(url_for("transfer.progress", job_id=job_id))


@bp.post("/imports/<int:job_id>/resume")
def resume(job_id: int):
    try:
        done = jobs.resume_job(get_store(), _runner(), current_actor(), job_id)
        flash(_("The import goes on after line %(line)s.", line=done["resumed"]["after_line"])
              if done["resumed"]["after_line"] else _("The import runs again from the first row."))
    except ValidationError as exc:
        flash(exc.message)
    except CardbaseError:
        abort(404)
    return redirect(url_for("transfer.progress", job_id=job_id))


@bp.get("/imports/<int:job_id>/bad-rows")
def bad_rows(job_id: int):
    try:
        path = jobs.bad_rows_file(get_store().db, current_actor(), job_id)
    except CardbaseError:
        abort(404)
    return send_file(path, as_attachment=True, download_name=f"import-{job_id}-errors.xlsx", max_age=0)


# ---- duplicates already in the database -------------------------------------------------------------
@bp.route("/o/<object_name>/duplicates", methods=["GET", "POST"])
def duplicates(object_name: str):
    session, obj = _object(object_name, "edit")
    available = [k for k, v in RULES.items() if all(obj.has_field(n) for n in v[0])]
    chosen = [r for r in request.values.getlist("rule") if r in available] or available[:1]
    if request.method == "POST":
        ids = [int(i) for i in request.form.getlist("record") if i.isdigit()]
        survivor = request.form.get("survivor", "")
        picks = {k[len("pick_"):]: v for k, v in request.form.items() if k.startswith("pick_") and v.isdigit()}
        try:
            write = engine_session(write=True)
            result = merge(write, obj.api_name, survivor, [i for i in ids if str(i) != survivor], picks)
            flash(_("%(count)s records were merged into one.", count=len(result["merged"]) + 1))
        except CardbaseError as exc:
            flash(exc.message)
        return redirect(url_for("transfer.duplicates", object_name=obj.api_name, rule=chosen))
    groups = find_duplicates(session, obj.api_name, [RULES[r][0] for r in chosen]) if chosen else []
    ids = sorted({r["id"] for g in groups for r in g["records"]})
    records = session.fetch(obj, ids) if ids else {}
    shown = [f for f in obj.user_fields if f.writable]
    return render_template("web/transfer/duplicates.html", obj=obj, plural=object_label(obj, plural=True),
                           groups=groups, records=records, fields=shown, available=available, chosen=chosen,
                           field_label=field_label, shown=_shown)


def _shown(field, value: Any) -> str:
    """A value as text for the merge table."""
    if value is None:
        return ""
    display = getattr(value, "display", None)
    if display is not None or type(value).__name__ == "LinkRef":
        return str(display or "")
    return field.ftype.format(field, value, current_actor().language)

