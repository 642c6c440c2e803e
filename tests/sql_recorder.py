"""The SQL statements an engine runs while a block runs: for tests that count statements
(set-based writes, one query per page, one version check per session)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa


@contextmanager
def recorded(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements (text) run on ``engine`` inside the block, in order. executemany
    counts once; SQLite's BEGIN goes straight to the driver and is not seen."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
