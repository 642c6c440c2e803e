"""Where a benchmark runs: a fresh SQLite file, or a throwaway PostgreSQL cluster started
from the Debian binaries (the same helper the test suite uses)."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

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


def each_engine(spec: str, describe: str, run: Callable[[str, str], Any]) -> list[Any]:
    """``run(engine, url)`` on a fresh database of each engine named in ``spec`` (those whose
    server is missing are skipped with a note); the results in order."""
    results = []
    for engine in engine_names(spec):
        print(f"[{engine}] {describe} …", flush=True)
        with fresh_database(engine) as url:
            if url is not None:
                results.append(run(engine, url))
    return results


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    """(p50, p95) wall-clock ms and p50 CPU ms of this process, after 5 warm-up calls. On a
    shared, busy machine the wall clock also counts time spent waiting for a core; the CPU
    time does not."""
    for _ in range(5):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    return statistics.median(wall), wall[max(0, int(len(wall) * 0.95) - 1)], statistics.median(cpu)


def load_note() -> str | None:
    """A line saying how busy the machine was (the 1-minute load average), if it can tell."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    return (f"  (load average during the run: {load:.1f} on {os.cpu_count() or 1} cores: "
            "wall-clock figures include waiting for a core)")


def bench_parser(description: str | None, rows: int) -> argparse.ArgumentParser:
    """The options every benchmark takes: how many rows, and on which engines."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--engines", default="sqlite,postgresql")
    return parser


def finish() -> int:
    """End a benchmark's report with how busy the machine was; the exit code of main()."""
    note = load_note()
    if note:
        print(note)
    return 0
