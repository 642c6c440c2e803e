"""System tables of the REST API's authentication (on the shared declarative Base).

  cb_api_token     bearer tokens: short-lived session tokens from POST /api/v1/auth/token
                   and named personal tokens; only the SHA-256 of the secret is stored
  cb_auth_attempt  recent token requests, per client address and per username: the
                   sliding window of the token endpoint's rate limit, kept in the database
                   so every web worker counts together (no state in process memory)
  cb_login_session browser logins (the session cookie's secret, hashed), revocable
  cb_login_failure failed password logins by name and address: the login throttle

They live here, next to the users table, because ``create_system_tables`` creates every
system table and the schema engine must not import the platform; the logic that uses
them is in ``schema_engine/accounts/tokens.py`` (the rate limit: ``platform/api/tokens.py``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, BigId, utcnow

TOKEN_KINDS = ("session", "personal")


class ApiToken(Base):
    __tablename__ = "cb_api_token"
    __table_args__ = (Index("ix_cb_api_token_user", "user_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret
    prefix: Mapped[str] = mapped_column(String(16), default="")  # first characters, to recognise a token
    password_fp: Mapped[str] = mapped_column(String(16), default="")  # no longer read (was: hash fingerprint)
    # Session tokens: the user's credentials epoch when issued; they end when it moves.
    credentials_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)


class AuthAttempt(Base):
    __tablename__ = "cb_auth_attempt"
    __table_args__ = (Index("ix_cb_auth_attempt_key", "key", "at"), Index("ix_cb_auth_attempt_at", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """A browser login: the session cookie carries the secret, only its SHA-256 is the id.
    Logout revokes one; a new password, a reset, a deactivation or a reactivation revokes
    all of the user's (accounts.users)."""

    __tablename__ = "cb_login_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's secret
    user_id: Mapped[int] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)


class LoginFailure(Base):
    """A failed password login (web or API), by the name tried (casefolded, whether or not
    such a user exists) and the client address: the login throttle's window
    (accounts.throttle), in the database so every worker counts together."""

    __tablename__ = "cb_login_failure"
    __table_args__ = (Index("ix_cb_login_failure_name", "name", "at"), Index("ix_cb_login_failure_address", "address", "at"),
                      Index("ix_cb_login_failure_at", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
