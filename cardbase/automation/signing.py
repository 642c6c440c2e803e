"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret.

Headers: ``X-Cardbase-Timestamp`` (Unix seconds when the request was signed) and
``X-Cardbase-Signature`` (``v1=<hex digest>``). A receiver recomputes the digest over the
timestamp it got, a dot and the raw body, compares in constant time, and refuses a
timestamp more than ``REPLAY_WINDOW`` seconds from its clock: a captured request cannot
be replayed later. ``X-Cardbase-Delivery`` (the event id) is the same on every retry, so a
receiver can drop duplicates of at-least-once delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import time

REPLAY_WINDOW = 300  # seconds


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def headers(secret: str, body: bytes, *, event: str, delivery: str, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"X-Cardbase-Timestamp": str(ts), "X-Cardbase-Signature": signature(secret, ts, body),
            "X-Cardbase-Event": event, "X-Cardbase-Delivery": delivery}


def verify(secret: str, timestamp: str, body: bytes, sent: str, *, now: float | None = None,
           window: int = REPLAY_WINDOW) -> bool:
    """What a receiver does: right signature and a fresh timestamp."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > window:
        return False
    return hmac.compare_digest(signature(secret, ts, body), sent or "")
