"""The login throttle: failed password logins slow guessing down without sleeping in a
worker thread, without telling which usernames exist, and without locking the real owner
out for good.

Every failed login (web or API token endpoint) is a row of ``cb_login_failure`` with the
name tried (casefolded, whether or not the user exists) and the client address; rows
older than MEMORY (a day) are forgotten. Before a password is checked, ``retry_after`` answers
how many seconds this name from this address must wait (``LoginThrottled``: the channel
answers 429 with Retry-After; no password is checked and nothing is counted then):

* **per address**: ADDRESS_LIMIT failures from one address within WINDOW, whatever the
  names (stops trying many usernames from one place);
* **per name, from the addresses that failed for it**: after FREE_FAILURES failures for
  a name within MEMORY, each further one makes the addresses that took part wait BASE_BLOCK, doubled
  per failure, at most MAX_BLOCK (15 minutes) after the last failure -- it always expires.
  An address that has not failed for this name (the owner at their own computer) is not
  held up by it, so an attacker cannot keep the owner out;
* **per name, from everywhere**: NAME_LIMIT failures within WINDOW from any addresses
  (a distributed attack) hold the name for everyone until the oldest leaves the window.

A successful login forgets its address's failures for that name. Known and unknown names
are counted, answered and timed alike.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..errors import CardbaseError
from ..i18n import _
from ..token_models import LoginFailure

WINDOW = timedelta(minutes=15)
MEMORY = timedelta(days=1)
ADDRESS_LIMIT = 20
FREE_FAILURES = 5
BASE_BLOCK = timedelta(seconds=30)
MAX_BLOCK = timedelta(minutes=15)
NAME_LIMIT = 50

_failures = LoginFailure.__table__


class LoginThrottled(CardbaseError):
    """Too many failed logins: try again in ``retry_after`` seconds (HTTP 429)."""

    status = 429

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(retry_message(self.retry_after))


def retry_message(seconds: int) -> str:
    """"too many attempts, try again in N minutes" -- the same for every name."""
    minutes = max(1, -(-int(seconds) // 60))
    if minutes == 1:
        return _("too many attempts, try again in a minute")
    return _("too many attempts, try again in %(n)s minutes", n=minutes)


def key_of(name: str) -> str:
    return (name or "").casefold()[:150]


def _address(address: str | None) -> str:
    return (address or "-")[:100]


def block_for(failures: int) -> timedelta:
    """How long the addresses that failed for a name wait after its n-th failure."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_BLOCK, BASE_BLOCK * 2 ** (failures - FREE_FAILURES))


def retry_after(conn: sa.Connection, name: str, address: str | None, now: datetime) -> int | None:
    """Seconds this name from this address must wait before a password is checked, or None."""
    start = now - WINDOW
    name, address = key_of(name), _address(address)
    waits: list[timedelta] = []
    recent: list[datetime] = list(conn.execute(
        sa.select(_failures.c.at).where(_failures.c.address == address, _failures.c.at >= start)
        .order_by(_failures.c.at.desc()).limit(ADDRESS_LIMIT)).scalars())
    if len(recent) >= ADDRESS_LIMIT:
        waits.append(recent[-1] + WINDOW - now)
    rows = conn.execute(sa.select(_failures.c.at, _failures.c.address)
                        .where(_failures.c.name == name, _failures.c.at >= now - MEMORY)
                        .order_by(_failures.c.at.desc()).limit(NAME_LIMIT)).all()
    in_window = [r for r in rows if r.at >= start]
    if len(in_window) >= NAME_LIMIT:
        waits.append(in_window[-1].at + WINDOW - now)
    if len(rows) >= FREE_FAILURES and any(r.address == address for r in rows):
        waits.append(rows[0].at + block_for(len(rows)) - now)
    longest = max(waits, default=timedelta(0))
    return int(longest.total_seconds()) + 1 if longest > timedelta(0) else None


def record_failure(conn: sa.Connection, name: str, address: str | None, now: datetime) -> None:
    conn.execute(sa.delete(_failures).where(_failures.c.at < now - MEMORY))
    conn.execute(sa.insert(_failures).values(name=key_of(name), address=_address(address), at=now))


def record_success(conn: sa.Connection, name: str, address: str | None) -> None:
    conn.execute(sa.delete(_failures).where(_failures.c.name == key_of(name),
                                            _failures.c.address == _address(address)))


def forget_name(conn: sa.Connection, name: str) -> None:
    """An administrator unlocks a user: every failure counted for the name is forgotten."""
    conn.execute(sa.delete(_failures).where(_failures.c.name == key_of(name)))


def name_failures(conn: sa.Connection, name: str, now: datetime) -> int:
    """How many failures the name has within MEMORY (the admin screen shows it as locked)."""
    return conn.execute(sa.select(sa.func.count()).select_from(_failures).where(
        _failures.c.name == key_of(name), _failures.c.at >= now - MEMORY)).scalar_one()
