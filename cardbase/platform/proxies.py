"""Behind a reverse proxy (opt-in): ``CARDBASE_TRUSTED_PROXIES=N`` says how many proxies
stand in front of cardbase, and werkzeug's ProxyFix takes the visitor's address, scheme and
host from the last N entries of their X-Forwarded-For/-Proto/-Host headers. Without it every
visitor behind the proxy would share the proxy's address, so the public form's rate limit
and the login throttle would count them all as one. Off by default: without a proxy those
headers come from the visitor and must not be believed."""
from __future__ import annotations

import os
from typing import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError

SETTING = "CARDBASE_TRUSTED_PROXIES"
MAX_PROXIES = 10


def trusted_proxies(env: Mapping[str, str] | None = None) -> int:
    """How many proxies to trust (0: none, the default); a clear error for anything else."""
    env = os.environ if env is None else env
    text = (env.get(SETTING) or "").strip()
    if not text:
        return 0
    if not text.isdigit() or int(text) > MAX_PROXIES:
        raise ConfigError(f"{SETTING}={text!r} is not a number of proxies: use 0 to {MAX_PROXIES}")
    return int(text)


def install(app: Flask, env: Mapping[str, str] | None = None) -> None:
    """Wrap the app in ProxyFix when proxies are trusted (the X-Forwarded-* headers)."""
    count = trusted_proxies(env)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
