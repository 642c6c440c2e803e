"""The browser session: Flask's signed cookie, opened only when the request has one.

Flask builds the cookie's signing serializer (an itsdangerous object with its key
derivation) at the start of *every* request, cookie or not. API calls authenticate with a
bearer token and send no session cookie, so for them (and for a first visit) that work is
pure overhead -- a measurable part of a single-record read. Here a request without the
cookie gets an empty session straight away; one with it is read exactly as Flask does.

The cookie is ``Secure`` when SESSION_COOKIE_SECURE is set (CARDBASE_SECURE_COOKIES=true)
and also whenever the request came over HTTPS, so a browser never sends it in clear.
"""
from __future__ import annotations

from flask import Flask, Request, request as current_request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None  # as Flask: no secret key, no session (a NullSession)
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or current_request.is_secure
