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
"""
from __future__ import annotations

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


def serve_dev(factory: Callable[[], Flask], host: str, port: int) -> None:
    """Flask's development server with the reloader and debugger (never in production)."""
    factory().run(host=host, port=port, debug=True, use_reloader=True)
