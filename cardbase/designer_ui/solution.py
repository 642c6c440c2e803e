"""Solutions in the browser (administrators): download the whole configuration as one
JSON document, upload one, see what importing it would add, change or remove, then apply
it. Between preview and apply the uploaded document waits in a temporary file named by
a random token (bound to the user), never in the session cookie; import is one
transaction, so a refused document changes nothing."""
from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.context import current_actor, get_db
from cardbase.schema_engine.errors import CardbaseError, SchemaError
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.solution_diff import check_document, diff_solution
from cardbase.platform.jsonio import loads as strict_json

from . import bp
from .common import require_admin
from .support import error_list

MAX_BYTES = 5 * 1024 * 1024
PENDING_TTL = 3600  # seconds an uploaded document waits for "Apply"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def pending_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "cardbase-solutions"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _pending_path(token: str) -> Path:
    return pending_dir() / f"{current_actor().user_id}-{token}.json"


def _clean_old() -> None:
    limit = time.time() - PENDING_TTL
    for p in pending_dir().glob("*.json"):
        try:
            if p.stat().st_mtime < limit:
                p.unlink()
        except OSError:
            pass


def _page(errors: list[str] | None = None, status: int = 200):
    return render_template("designer/solution/index.html", errors=errors or [], max_mb=MAX_BYTES // (1024 * 1024),
                           nav_object=None), status


@bp.route("/solution")
def solution():
    require_admin("export and import solutions")
    return _page()


@bp.route("/solution/export.json")
def solution_export():
    require_admin("export and import solutions")
    document = export_solution(get_db())
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="cardbase-solution-{stamp}.json"'})


def read_upload() -> tuple[dict[str, Any], bytes]:
    """The uploaded document, parsed and checked; SchemaError with a clear message."""
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        raise SchemaError({"document": _("choose a solution file (.json) to upload")})
    raw = upload.stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise SchemaError({"document": _("the file is larger than %(mb)s MB; a solution document is at most "
                                         "%(mb)s MB", mb=MAX_BYTES // (1024 * 1024))})
    if not raw.strip():
        raise SchemaError({"document": _("the file is empty")})
    try:
        document = strict_json(raw.decode("utf-8-sig"), what=None)
    except UnicodeDecodeError:
        raise SchemaError({"document": _("the file is not text in UTF-8: is it really a JSON file?")}) from None
    except ValueError as exc:
        raise SchemaError({"document": _("the file is not valid JSON (%(error)s)", error=str(exc))}) from None
    check_document(document)
    return document, raw


@bp.route("/solution/preview", methods=["POST"])
def solution_preview():
    require_admin("export and import solutions")
    if request.content_length is not None and request.content_length > MAX_BYTES + 64 * 1024:
        return _page([_("document: the file is larger than %(mb)s MB; a solution document is at most %(mb)s MB",
                        mb=MAX_BYTES // (1024 * 1024))], 413)
    try:
        document, raw = read_upload()
        # the whole import in a transaction rolled back: what it would refuse is refused now
        import_solution(get_db(), document, current_actor(), dry_run=True)
    except CardbaseError as exc:
        return _page(error_list(exc), 422)
    diff = diff_solution(document, export_solution(get_db()))
    _clean_old()
    token = secrets.token_urlsafe(24)
    path = _pending_path(token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(raw)
    return render_template("designer/solution/preview.html", diff=diff, token=token,
                           filename=request.files["document"].filename, nav_object=None,
                           nothing=not (diff["added"] or diff["changed"] or diff["removed"]))


@bp.route("/solution/apply", methods=["POST"])
def solution_apply():
    require_admin("export and import solutions")
    token = request.form.get("token", "")
    path = _pending_path(token) if _TOKEN.match(token) else None
    if path is None or not path.exists():
        return _page([_("The uploaded document is no longer waiting (it expires after an hour, or it was applied "
                        "already). Upload it again.")], 410)
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
        check_document(document)
        report = import_solution(get_db(), document, current_actor())
    except CardbaseError as exc:
        return _page([_("Nothing was changed: the import was refused.")] + error_list(exc), 422)
    finally:
        if path.exists():
            path.unlink(missing_ok=True)
    flash(_("The solution was imported: %(added)s added, %(changed)s changed.",
            added=len(report.get("added", [])), changed=len(report.get("changed", []))), "success")
    return redirect(url_for("designer.config_log"))
