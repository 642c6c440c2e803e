"""``cardbase worker``: delivers the outbox (webhooks, e-mail, scenarios, reminders).

Registered on the ``cardbase`` group by ``cli.py``. ``--once`` does what is due now and
exits (tests, cron); without it the worker runs until SIGTERM or Ctrl-C. On PostgreSQL
start as many as you like; on SQLite one is enough (one writer at a time)."""
from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta

import click

from cardbase.automation.worker import Services, Worker


def build_worker(engine, lease_seconds: float = 60.0) -> Worker:
    own = tuple(u for u in (os.environ.get("CARDBASE_PUBLIC_URL", ""),) if u)
    return Worker(Services(store=engine.store, own_urls=own), lease=timedelta(seconds=lease_seconds))


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit (for tests and cron).")
@click.option("--poll", default=0.5, show_default=True, type=click.FloatRange(0.05, 60),
              help="Seconds to wait when there is nothing to do.")
@click.option("--lease", "lease_seconds", default=60.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="Seconds after which a job a crashed worker held is taken again.")
@click.pass_obj
def worker(state, once: bool, poll: float, lease_seconds: float) -> None:
    """Deliver the outbox: webhooks, e-mail, scenarios, reminders (at least once)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    engine = state.initialised_engine()
    runner = build_worker(engine, lease_seconds)
    if once:
        stats = runner.run_once()
        click.echo(", ".join(f"{k} {v}" for k, v in stats.items()))
        return
    signal.signal(signal.SIGTERM, lambda *_: runner.stopping.set())
    _stop_with_parent(runner)
    click.echo("cardbase worker running (Ctrl-C to stop)")
    try:
        runner.run_forever(poll=poll)
    except KeyboardInterrupt:
        pass


def start_worker(url: str):
    """``cardbase worker`` in a process of its own beside the web server (``cardbase run``).
    The URL goes through the environment, never the command line (``ps`` shows that)."""
    import subprocess
    import sys

    env = {**os.environ, "CARDBASE_DATABASE_URL": url, "CARDBASE_WORKER_PARENT": str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", "cardbase.platform.cli", "worker"], env=env)


def _stop_with_parent(runner: Worker) -> None:
    """A worker started by ``cardbase run`` stops when that process ends (no orphan)."""
    import threading

    parent = os.environ.get("CARDBASE_WORKER_PARENT")
    if not parent:
        return

    def watch() -> None:
        while not runner.stopping.wait(1.0):
            if os.getppid() != int(parent):
                runner.stopping.set()
    threading.Thread(target=watch, daemon=True).start()
