"""Serving the app: gunicorn (production) or Flask's reloading dev server.

Gunicorn is driven through its Python API, so ``cardbase serve`` needs no separate
config file. Each worker builds its own app (and database engine) after the fork:
engines and SQLite connections must never be shared across processes.

Workers are gunicorn's ``gthread`` kind: each serves up to THREADS requests at once from a
thread pool and keeps idle HTTP/1.1 connections open for KEEPALIVE seconds (an API client
or a browser sends its next request on the same connection: no TCP handshake and no new
socket per request, which on loopback costs as much as a small request itself). Idle
connections wait in the worker's poller, not in a thread. The app is thread-safe: every
request takes its own database connection from the engine's pool, and the per-process
caches (schema snapshot, rights model, statements) are immutable or built under a lock.

Recalculations a crash left unfinished (``computed.jobs``) are resumed once per server at
start: ``cardbase serve`` (gunicorn's master, before the workers fork; the dev server's
watcher process, not the reloaded child) calls ``start_job_resumer``, which runs
``resume_jobs`` in a process of its own so the server answers at once. Several servers
starting together are safe: the jobs lock their rows (see ``computed.jobs``).
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any, Callable

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    """Run ``factory()`` in gunicorn workers with the given gunicorn settings."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def base_url(host: str, port: int) -> str:
    return f"http://{bind_address(host, port)}"


THREADS = 4  # requests served at once per worker
KEEPALIVE = 5  # seconds an idle keep-alive connection stays open


def serve_gunicorn(factory: Callable[[], Flask], host: str, port: int, workers: int, *,
                   threads: int = THREADS) -> None:
    """Block serving with gunicorn until it is stopped (SIGTERM / Ctrl-C)."""
    GunicornServer(factory, {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": KEEPALIVE,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        "preload_app": False,  # every worker opens its own engine after the fork
        "proc_name": "cardbase",
    }).run()


log = logging.getLogger(__name__)


def resume_jobs(url: str, echo: Callable[[str], None] = print) -> list[int]:
    """Finish every unfinished recompute job of the database at ``url``, oldest first;
    a job that fails is logged and left for the next start (``cardbase check`` lists it).
    Returns the ids finished here (a job another process is running is left to it)."""
    from cardbase.schema_engine.computed.jobs import run_job, running_jobs
    from cardbase.schema_engine.db import Database

    db = Database(url)
    finished = []
    try:
        for job_id in running_jobs(db):
            try:
                if run_job(db, job_id, skip_locked=True):
                    finished.append(job_id)
                    echo(f"cardbase: finished recalculation job {job_id} an earlier run left unfinished")
            except Exception:  # the next start tries again; cardbase check reports it meanwhile
                log.exception("recalculation job %s failed; it stays unfinished", job_id)
                echo(f"cardbase: recalculation job {job_id} failed; `cardbase check` shows it, "
                     "`cardbase recompute` tries again")
    finally:
        db.dispose()
    return finished


def start_job_resumer(url: str) -> subprocess.Popen:
    """Run ``resume_jobs(url)`` in a new process (its own interpreter: no engine or
    connection is shared with the server or its forked workers); returns it. The URL goes
    through the environment, never the command line (``ps`` shows that)."""
    env = {**os.environ, "CARDBASE_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "cardbase.platform.server"], env=env)


def serve_dev(factory: Callable[[], Flask], host: str, port: int) -> None:
    """Flask's development server with the reloader and debugger (never in production)."""
    factory().run(host=host, port=port, debug=True, use_reloader=True)


if __name__ == "__main__":  # the job resumer started by ``start_job_resumer``
    logging.basicConfig(level=logging.INFO)
    resume_jobs(os.environ["CARDBASE_DATABASE_URL"], echo=lambda line: print(line, flush=True))
