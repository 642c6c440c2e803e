"""Configuration from the environment, with safe defaults.

Nothing secret is hard-coded: when CARDBASE_SECRET_KEY is not set, a random key is
generated on first run and kept in the database (``cb_setting``), so every web worker
of one installation signs sessions with the same key and a restart logs nobody out.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cardbase.schema_engine.db import Database, database_url
from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.meta_models import Setting

DEFAULT_PHONE_REGION = "DE"
DEFAULT_PORT = 5000
SECRET_KEY_SETTING = "secret_key"


class ConfigError(CardbaseError, ValueError):
    """An environment variable has a value cardbase cannot use."""


@dataclass(frozen=True)
class Config:
    """The settings cardbase reads from its environment."""

    database_url: str
    secret_key: str | None
    phone_region: str
    admin_password: str | None
    port: int
    secure_cookies: bool = False  # CARDBASE_SECURE_COOKIES: cookies only over HTTPS


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text or text in FALSE_WORDS:
        return False
    if text in TRUE_WORDS:
        return True
    raise ConfigError(f"{name}={env.get(name)!r} is not a yes/no value: use true or false")


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the CARDBASE_* variables (and PORT); unset or empty ones get the defaults."""
    env = os.environ if env is None else env
    port_text = (env.get("PORT") or "").strip()
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise ConfigError(f"PORT={port_text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"PORT={port} is not between 1 and 65535")
    return Config(
        database_url=database_url(env.get("CARDBASE_DATABASE_URL") or None),
        secret_key=env.get("CARDBASE_SECRET_KEY") or None,
        phone_region=(env.get("CARDBASE_PHONE_REGION") or DEFAULT_PHONE_REGION).strip().upper(),
        admin_password=env.get("CARDBASE_ADMIN_PASSWORD") or None,
        port=port,
        secure_cookies=_flag(env, "CARDBASE_SECURE_COOKIES"),
    )


def get_setting(db: Database, key: str) -> str | None:
    with db.read() as conn:
        return conn.execute(sa.select(Setting.value).where(Setting.key == key)).scalar()


def ensure_secret_key(db: Database) -> str:
    """The installation's secret key from ``cb_setting``, generated the first time.

    Several workers may start at once on a fresh database: the loser of the insert race
    reads the winner's key instead, so all of them end up with the same one."""
    existing = get_setting(db, SECRET_KEY_SETTING)
    if existing:
        return existing
    try:
        with db.write() as conn:
            if conn.execute(sa.select(Setting.value).where(Setting.key == SECRET_KEY_SETTING)).scalar() is None:
                conn.execute(sa.insert(Setting).values(key=SECRET_KEY_SETTING, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another worker stored one first
    key = get_setting(db, SECRET_KEY_SETTING)
    if not key:  # pragma: no cover - would mean the insert silently vanished
        raise RuntimeError("could not store the secret key in cb_setting")
    return key
