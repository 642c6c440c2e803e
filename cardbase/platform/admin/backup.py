"""The admin's backup screen: download a full backup of the running instance (the same
archive as ``cardbase backup``, taken consistently in one read transaction) and how to
restore one (``cardbase restore`` into an empty instance, on either engine)."""
from __future__ import annotations

import os
import tempfile

from flask import after_this_request, render_template, send_file

from cardbase.transfer import backup as backups

from ..context import get_db
from . import bp


@bp.get("/backup")
def backup():
    return render_template("admin/backup.html", nav_active="backup", format_version=backups.FORMAT_VERSION)


@bp.post("/backup")
def backup_download():
    fd, path = tempfile.mkstemp(prefix="cardbase-backup-", suffix=".zip")
    os.close(fd)
    manifest = backups.backup(get_db(), path)

    @after_this_request
    def _remove(response):
        try:
            os.unlink(path)
        except OSError:  # pragma: no cover - already gone
            pass
        return response

    stamp = manifest["created_at"][:19].replace(":", "-")
    return send_file(path, as_attachment=True, download_name=f"cardbase-backup-{stamp}.zip",
                     mimetype="application/zip", max_age=0)
