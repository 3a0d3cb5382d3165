"""Security headers on every response (pages, widget, API, static files, errors), added as the
response leaves the app, unless a handler set its own (the admin page's stricter policy)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from contest.errors import ConfigError, NotFoundError

#: Pages run only their own scripts (/static) and talk only to this origin; inline styles are allowed
#: for the charts' colour swatches. No page may be framed, except the widget.
_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frames}"
)
#: JSON and files: nothing to run, nothing to frame.
_DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
#: The OpenAPI viewer loads its scripts from a CDN; it still may not be framed.
_SCHEMA_POLICY = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

#: A CSP source list: hosts, schemes, keywords; no ';' or line breaks that would end the header.
_SOURCES = re.compile(r"^[A-Za-z0-9*'\-.:/ _]+$")

_Headers = list[tuple[bytes, bytes]]

#: The headers of JSON and files, for responses built once and served many times (the leaderboard API):
#: with them set, the hook below has nothing to add.
DATA_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": _DATA_POLICY,
    "x-frame-options": "DENY",
}


def _encode(headers: dict[str, str]) -> _Headers:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def security_headers(widget_frame_ancestors: str) -> BeforeMessageSendHookHandler:
    """The hook for ``Litestar(before_send=...)``; ``widget_frame_ancestors`` is the CSP source list
    of sites that may frame the widget (the city's site), ``*`` for any."""
    frames = widget_frame_ancestors.strip()
    if not frames or not _SOURCES.match(frames):
        raise ConfigError(
            f"CONTEST_WIDGET_FRAME_ANCESTORS={widget_frame_ancestors!r} is not a list of sites such as "
            "'https://www.stadt.example https://stadt.example' (or *)",
            key="settings.frame_ancestors",
        )
    common = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    page = _encode(
        {**common, "Content-Security-Policy": _PAGE_POLICY.format(frames="'none'"), "X-Frame-Options": "DENY"}
    )
    # Signed-in pages and downloads of a household: never kept by a shared cache.
    portal = [*page, *_encode({"Cache-Control": "no-store"})]
    # No X-Frame-Options: it cannot name an allowed site; browsers follow frame-ancestors.
    widget = _encode({**common, "Content-Security-Policy": _PAGE_POLICY.format(frames=frames)})
    data = _encode({**common, "Content-Security-Policy": _DATA_POLICY, "X-Frame-Options": "DENY"})
    schema = _encode({**common, "Content-Security-Policy": _SCHEMA_POLICY, "X-Frame-Options": "DENY"})

    def headers_for(path: str) -> _Headers:
        if path.startswith("/api/") or path.startswith("/static/"):
            return data
        if path.startswith("/schema"):
            return schema
        if path.startswith("/portal"):
            return portal
        if path.startswith("/contests/") and path.rstrip("/").endswith("/widget"):
            return widget
        return page

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        present: Any = message.get("headers") or []
        if any(k == b"x-content-type-options" for k, _ in present):
            return  # the handler set the whole set itself (prebuilt API responses, the admin page)
        extra = headers_for(scope.get("path", ""))
        names = {bytes(k).lower() for k, _ in present}
        message["headers"] = [*present, *((k, v) for k, v in extra if k not in names)]

    return add_headers


def refuse_nul_in_path(request: Request[Any, Any, Any]) -> None:
    """No address holds a NUL character (``%00``), and PostgreSQL refuses it in a query: not found,
    before any handler asks the database with it."""
    if "\x00" in request.scope["path"]:
        raise NotFoundError("page not found", key="http.not_found")
