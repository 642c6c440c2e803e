"""Outgoing HTTP for webhooks: which targets are allowed, and a POST that cannot hang or flood us.

A target must be http or https, must not be cardbase itself, must match the admin's allow
list when it has entries, and must not resolve to a private, loopback, link-local or
otherwise non-public address unless its allow-list entry says so (the usual guard against
server-side request forgery). The host is resolved and checked again right before each
delivery, so a name that later points inward is refused then.

A request has one deadline for everything (connect, headers, body): a watchdog shuts the
socket when it passes, so a receiver that never answers or trickles bytes costs at most
that long. At most ``max_bytes`` of the answer are read; the rest is never downloaded.
"""
from __future__ import annotations

import fnmatch
import http.client
import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import AllowedHost
from cardbase.schema_engine.errors import ValidationError

MAX_RESPONSE_BYTES = 1 << 20  # read at most 1 MB of an answer
EXCERPT_CHARS = 1000  # kept in the delivery log
SCHEMES = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def _own_addresses(extra: Iterable[str] = ()) -> set[tuple[str, int]]:
    """cardbase's own (host, port) pairs: CARDBASE_PUBLIC_URL and what the caller knows
    (the request's host)."""
    out: set[tuple[str, int]] = set()
    for url in [os.environ.get("CARDBASE_PUBLIC_URL", ""), *extra]:
        if not url:
            continue
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if parts.hostname:
            out.add((parts.hostname.lower(), parts.port or SCHEMES.get(parts.scheme, 80)))
    return out


def parse_target(url: object, field: str = "url") -> Target:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({field: "must be an http or https URL"})
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationError({field: f"is not a valid URL: {exc}"}) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValidationError({field: f"must use http or https, not '{scheme or '(none)'}'"})
    if not parts.hostname:
        raise ValidationError({field: "has no host"})
    if parts.username or parts.password:
        raise ValidationError({field: "must not carry a user name or password (use the signature)"})
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname.lower(), port or SCHEMES[scheme], path)


def _allow_entry(conn: Connection, host: str) -> tuple[bool, bool]:
    """(host allowed by the list, private addresses allowed for it)."""
    rows = conn.execute(sa.select(AllowedHost.pattern, AllowedHost.allow_private)).all()
    if not rows:
        return True, False
    matched = [r for r in rows if fnmatch.fnmatchcase(host, r.pattern.lower())]
    return bool(matched), any(r.allow_private for r in matched)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": f"the host '{host}' cannot be resolved: {exc}"}) from None


def check_target(conn: Connection, url: object, *, own: Iterable[str] = (), field: str = "url") -> Target:
    """The target of ``url`` if cardbase may call it; a ValidationError naming ``field`` if not."""
    target = parse_target(url, field)
    if (target.host, target.port) in _own_addresses(own):
        raise ValidationError({field: "must not point at cardbase itself"})
    allowed, private_ok = _allow_entry(conn, target.host)
    if not allowed:
        raise ValidationError({field: f"the host '{target.host}' is not on the administrator's allow list"})
    if not private_ok:
        try:
            addresses = resolve(target.host, target.port)
        except ValidationError as exc:
            raise ValidationError({field: exc.errors["url"][0]}) from None
        inward = [a for a in addresses if not _is_public(a)]
        if inward:
            raise ValidationError({field: f"the host '{target.host}' resolves to a private or loopback address "
                                          f"({inward[0]}); an administrator must allow it"})
    return target


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, timed out, cut off)
    excerpt: str
    duration_ms: int
    error: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float,
         max_bytes: int = MAX_RESPONSE_BYTES) -> Answer:
    """POST ``body`` with one overall deadline of ``timeout`` seconds; never raises."""
    started = time.monotonic()
    cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    conn = cls(target.host, target.port, timeout=timeout)
    expired = threading.Event()

    def watchdog() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    try:
        conn.request("POST", target.path, body=body, headers={"Content-Type": "application/json",
                                                              "User-Agent": "cardbase-webhook/1", **headers})
        response = conn.getresponse()
        chunks: list[bytes] = []
        size, truncated = 0, False
        while True:
            chunk = response.read(min(65536, max_bytes - size + 1))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                truncated = True
                break
        if expired.is_set():
            raise TimeoutError
        text = b"".join(chunks)[:EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
        return Answer(response.status, text, elapsed(),
                      f"answer longer than {max_bytes} bytes: the rest was not read" if truncated else "", truncated)
    except (TimeoutError, socket.timeout):
        return Answer(None, "", elapsed(), f"no complete answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            return Answer(None, "", elapsed(), f"no complete answer within {timeout:g} s")
        return Answer(None, "", elapsed(), f"{type(exc).__name__}: {exc}")
    finally:
        timer.cancel()
        conn.close()
