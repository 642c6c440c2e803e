"""Where a benchmark runs: a fresh SQLite file, or a throwaway PostgreSQL cluster started
from the Debian binaries (the same helper the test suite uses)."""
from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def engine_names(spec: str) -> list[str]:
    names = [e.strip() for e in spec.split(",") if e.strip()]
    unknown = [n for n in names if n not in ("sqlite", "postgresql")]
    if unknown:
        raise SystemExit(f"unknown engine(s): {', '.join(unknown)} (use sqlite, postgresql)")
    return names


@contextmanager
def fresh_database(engine: str) -> Iterator[str | None]:
    """The URL of a new, empty database on ``engine``; None when PostgreSQL is absent."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cardbase-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    from pg_cluster import PgCluster, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("  PostgreSQL binaries not found: skipped (apt-get install postgresql)")
        yield None
        return
    cluster = PgCluster(bin_dir).start()
    try:
        yield cluster.create_database("bench")
    finally:
        cluster.stop()
