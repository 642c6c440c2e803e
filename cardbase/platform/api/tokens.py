"""Bearer tokens for the API: the engine's token service (``schema_engine.accounts.tokens``:
issue, list, revoke, check; the admin policy applied there) adapted to HTTP, and the
token endpoint's rate limit.

The rate limit is a sliding window in ``cb_auth_attempt``: every token request counts
against its client address and its username; past the limit the endpoint answers 429
with Retry-After. It lives in the database so every worker counts together (DESIGN: no
cross-request state in process memory).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cardbase.schema_engine.accounts import tokens as _tokens
from cardbase.schema_engine.accounts.tokens import (MAX_PERSONAL_DAYS, MAX_TOKENS_PER_USER, PREFIX, SESSION_HOURS,
                                                    TOUCH_EVERY, Authenticated, TokenRejected, create_personal_token,
                                                    hash_token, issue_session_token, list_tokens, new_secret,
                                                    revoke_token, token_json, touch)
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import utcnow
from cardbase.schema_engine.token_models import AuthAttempt

from .errors import ApiError

# Token requests per window: per client address and per username (config can override).
RATE_PER_ADDRESS = 30
RATE_PER_USER = 10
RATE_WINDOW = 60  # seconds

_attempts = AuthAttempt.__table__

__all__ = ["MAX_PERSONAL_DAYS", "MAX_TOKENS_PER_USER", "PREFIX", "SESSION_HOURS", "TOUCH_EVERY", "Authenticated",
           "authenticate", "check_rate", "create_personal_token", "hash_token", "issue_session_token", "list_tokens",
           "new_secret", "revoke_token", "token_json", "touch"]


def authenticate(db: Database, secret: str, conn: sa.Connection | None = None) -> Authenticated:
    """The user a bearer token belongs to, or ApiError 401 saying why not (``conn``: the
    request's read transaction to check it in, see the engine's ``authenticate``)."""
    try:
        return _tokens.authenticate(db, secret, conn)
    except TokenRejected as exc:
        if exc.code == "token_expired":
            raise ApiError(401, exc.message, code="token_expired",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                                        'error_description="the token expired"'}) from None
        raise ApiError(401, exc.message, code="invalid_token",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


# ---- rate limit ------------------------------------------------------------------------------
def check_rate(db: Database, address: str, username: str, *, per_address: int = RATE_PER_ADDRESS,
               per_user: int = RATE_PER_USER, window: int = RATE_WINDOW) -> None:
    """Count this token request; ApiError 429 (with Retry-After) past either limit."""
    now = utcnow()
    start = now - timedelta(seconds=window)
    keys = [(f"addr:{address or '-'}"[:200], per_address)]
    if username:
        keys.append((f"user:{username.casefold()}"[:200], per_user))
    with db.write() as conn:
        conn.execute(sa.delete(_attempts).where(_attempts.c.at < start))
        for key, limit in keys:
            rows = conn.execute(sa.select(_attempts.c.at).where(_attempts.c.key == key, _attempts.c.at >= start)
                                .order_by(_attempts.c.at).limit(limit)).scalars().all()
            if len(rows) >= limit:
                retry = max(1, int((rows[0] - start).total_seconds()) + 1)
                what = "from your address" if key.startswith("addr:") else "for this user"
                raise ApiError(429, f"too many token requests {what}: at most {limit} per {window} seconds; "
                                    f"try again in {retry} s", headers={"Retry-After": str(retry)})
        conn.execute(sa.insert(_attempts), [{"key": key, "at": now} for key, _limit in keys])
