"""The administrator's allow list of webhook targets (``http_out`` reads it): host names,
``*.example.com`` for subdomains, or IP addresses; ``allow_private`` lets that host be a
private or loopback address (an ERP in the company network). Replaced as a whole."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.accounts.policy import ADMIN
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.automation_models import AllowedHost
from cardbase.schema_engine.errors import ValidationError

HOSTS = AllowedHost.__table__
PATTERN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^[0-9a-f:.]+$")
MAX_ENTRIES = 200


def entries(conn: Connection) -> list[dict[str, Any]]:
    return [{"host": r.pattern, "allow_private": r.allow_private}
            for r in conn.execute(sa.select(HOSTS.c.pattern, HOSTS.c.allow_private).order_by(HOSTS.c.pattern))]


def replace(conn: Connection, actor: Actor, wanted: Any) -> list[dict[str, Any]]:
    """Set the whole list (administrators only); every bad entry is named, nothing is half-saved."""
    ADMIN.require_admin(actor, "change the webhook allow list")
    if not isinstance(wanted, list) or len(wanted) > MAX_ENTRIES:
        raise ValidationError({"hosts": f"must be a list of at most {MAX_ENTRIES} entries"})
    rows, errors, seen = [], {}, set()
    for i, entry in enumerate(wanted):
        host = entry.get("host") if isinstance(entry, dict) else entry
        private = entry.get("allow_private", False) if isinstance(entry, dict) else False
        if not isinstance(host, str) or not PATTERN.match(host.strip().lower()) or len(host) > 255:
            errors[f"hosts[{i}]"] = f"{host!r} is not a host name, *.domain or IP address (no scheme, no path)"
            continue
        if not isinstance(private, bool):
            errors[f"hosts[{i}].allow_private"] = "must be true or false"
            continue
        host = host.strip().lower()
        if host in seen:
            errors[f"hosts[{i}]"] = f"'{host}' is in the list twice"
            continue
        seen.add(host)
        rows.append({"pattern": host, "allow_private": private})
    if errors:
        raise ValidationError(errors)
    conn.execute(sa.delete(HOSTS))
    if rows:
        conn.execute(sa.insert(HOSTS), rows)
    return entries(conn)
