"""Security of the situation room: headers, allowed hosts, login, CSRF.

Post content is untrusted everywhere (text, names, URLs, media links): templates autoescape, the
``safe_url`` filter lets only http(s) links through, and the Content-Security-Policy allows
scripts and styles from the app itself only, so a payload that slipped through would not run.

* **Hosts**: without a token the app answers only requests addressed to a loopback name (a web
  page elsewhere cannot reach it through DNS rebinding).
* **Login**: with a token (required by ``groundspeed serve`` when bound to anything but
  loopback) every page and API call needs a session cookie (from the login form) or an
  ``Authorization: Bearer`` header. Sessions are signed with a key derived from the token, so
  they survive a restart and end when the token changes. Tokens are never accepted in URLs,
  which end up in logs and browser history.
* **CSRF**: a random ``gs_csrf`` cookie (SameSite=Strict) whose value every form sends back;
  state-changing requests without it, or from another origin, are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from .core import LOOPBACK_HOSTS, WebSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "gs_session"
CSRF_COOKIE = "gs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
PUBLIC_PREFIXES = ("/static/", "/healthz", "/login", "/favicon.ico")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def content_security_policy(settings: WebSettings) -> str:
    images = "'self' data:"
    if settings.tile_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in settings.tile_url else parts.netloc
        images += f" {parts.scheme}://{host}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds the CSP and the other protective headers to every response."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(settings).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in names]
                if scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"public, max-age=3600"))
                elif b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)


def _host_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = str(value.decode("latin-1")).strip().lower()
            if host.startswith("["):
                return host.split("]")[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


class HostCheck:
    """Refuses requests addressed to a name the app was not told about (DNS rebinding)."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.any_host = "*" in settings.allowed_hosts or (settings.token is not None and not settings.allowed_hosts)
        self.allowed = {*LOOPBACK_HOSTS, "testserver", *(host.lower() for host in settings.allowed_hosts)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.any_host and _host_of(scope) not in self.allowed:
            response = PlainTextResponse(
                "This groundspeed server only answers on localhost (start it with --host and --token to share it).",
                status_code=421,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Sessions:
    """Signs and checks session cookies with a key derived from the token."""

    def __init__(self, settings: WebSettings) -> None:
        self.token = settings.token
        self.max_age = settings.session_days * 86400
        self.key = hashlib.sha256(b"groundspeed-session\0" + (settings.token or "").encode()).digest()

    def new_session(self) -> str:
        issued = str(int(time.time()))
        return f"{issued}.{self._sign(issued)}"

    def _sign(self, issued: str) -> str:
        return hmac.new(self.key, issued.encode(), hashlib.sha256).hexdigest()

    def valid_session(self, value: str | None) -> bool:
        if not value or "." not in value:
            return False
        issued, signature = value.split(".", 1)
        if not issued.isdigit() or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        return 0 <= time.time() - int(issued) <= self.max_age

    def valid_token(self, candidate: str) -> bool:
        return self.token is not None and hmac.compare_digest(candidate.encode(), self.token.encode())

    def authorised(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        request = Request(scope)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and self.valid_token(header[7:].strip()):
            scope.setdefault("state", {})["bearer"] = True
            return True
        return self.valid_session(request.cookies.get(SESSION_COOKIE))


class Auth:
    """Login with the token: a signed session cookie, or a Bearer header for scripts."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions
        self.token = sessions.token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PUBLIC_PREFIXES) or self.sessions.authorised(scope):
            await self.app(scope, receive, send)
            return
        response: Response
        if path.startswith("/api/") or path == "/metrics":
            response = JSONResponse(
                {"error": "login required: send Authorization: Bearer <token>"},
                status_code=401,
                headers={"www-authenticate": 'Bearer realm="groundspeed"'},
            )
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        await response(scope, receive, send)


class CsrfCookie:
    """Gives every browser a random CSRF token in a cookie (and ``request.state.csrf``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = Request(scope).cookies.get(CSRF_COOKIE)
        fresh = existing is None or len(existing) < 20
        token = secrets.token_urlsafe(24) if fresh else existing
        scope.setdefault("state", {})["csrf"] = token
        if not fresh:
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def set_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie: SimpleCookie = SimpleCookie()
                cookie[CSRF_COOKIE] = token or ""
                cookie[CSRF_COOKIE]["path"] = "/"
                cookie[CSRF_COOKIE]["httponly"] = True
                cookie[CSRF_COOKIE]["samesite"] = "Strict"
                if secure:
                    cookie[CSRF_COOKIE]["secure"] = True
                header = cookie.output(header="").strip().encode("latin-1")
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, set_cookie)


async def csrf_ok(request: Request) -> bool:
    """Whether a state-changing request carries the CSRF token and comes from this origin."""
    if request.scope.get("state", {}).get("bearer"):
        return True  # scripts using the token: no cookies involved, nothing to forge
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != expected:
            return False
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), cookie.encode())
