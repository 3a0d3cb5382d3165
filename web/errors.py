"""The one place where the project's errors become HTTP statuses (JSON under /api, a page elsewhere)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from contest.errors import (
    AlreadyExists,
    ContestError,
    IngestError,
    NotAuthenticated,
    NotFoundError,
    PermissionDenied,
)
from web.catalog import TEXTS
from web.i18n import error_text, message, pick_language

log = logging.getLogger(__name__)


def status_for(exc: ContestError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, NotAuthenticated):
        return 401
    if isinstance(exc, AlreadyExists):
        return 409
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, IngestError):
        return 422
    return 400


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api") or request.url.path.startswith("/schema")


def request_language(request: Request[Any, Any, Any]) -> str:
    """The visitor's language: the switch, the remembered choice, or the browser's preference."""
    return pick_language(
        request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
    )


def _respond(
    request: Request[Any, Any, Any],
    status: int,
    key: str,
    detail: str,
    *,
    shown: Callable[[str], str],
    extra: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """JSON for the API (``detail``: the English message for clients and logs, ``error``: the stable key)
    or an error page with ``shown(lang)``, the key's sentence in the visitor's language."""
    if _wants_json(request):
        body = {"status": status, "error": key, "detail": detail}
        if extra:  # which field of the input was wrong (Litestar's validation errors)
            body["extra"] = extra
        return Response(body, status_code=status, headers=headers)
    lang = request_language(request)
    title = TEXTS[lang]["not_found_title"] if status == 404 else TEXTS[lang]["error_title"]
    detail = shown(lang)
    return Template(
        template_name="error.html",
        context={"t": TEXTS[lang], "lang": lang, "status": status, "title": title, "detail": detail},
        status_code=status,
    )


def contest_error_handler(request: Request[Any, Any, Any], exc: ContestError) -> Response[Any]:
    if exc.key == "auth.signed_out" and not _wants_json(request):
        return Redirect("/portal/")
    status = status_for(exc)
    # RFC 9110: a 401 names the scheme the client should authenticate with.
    headers = {"WWW-Authenticate": 'Bearer realm="admin"'} if status == 401 else None
    return _respond(
        request, status, exc.key, exc.message, shown=lambda lang: error_text(exc, lang), headers=headers
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    key = "http.not_found" if exc.status_code == 404 else f"http.{exc.status_code}"
    sentence, detail = key, exc.detail
    if exc.status_code == 413:
        detail = "The file is too large."
    elif exc.status_code == 403 and "CSRF" in str(exc.detail):
        sentence, detail = "http.csrf", "The form expired, please reload."
    # Litestar's own details (a validation error) are English; a page shows the key's sentence if any.
    return _respond(
        request,
        exc.status_code,
        key,
        detail,
        shown=lambda lang: message(sentence, {}, lang, default=detail),
        extra=exc.extra,
    )


def _key_response(request: Request[Any, Any, Any], status: int, key: str, detail: str) -> Response[Any]:
    return _respond(request, status, key, detail, shown=lambda lang: message(key, {}, lang, default=detail))


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Never a stack trace to the visitor; the log keeps it.
    log.exception("unexpected error on %s", request.url.path)
    return _key_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "http.internal_error", "An unexpected error occurred."
    )


def recursion_error_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # JSON nested deeper than the decoder's stack (50,000 "[") is bad input, not a server fault.
    if "deserializ" in str(exc) or "decod" in str(exc):
        return _key_response(request, 400, "http.too_deeply_nested", "The data is nested too deeply.")
    return unexpected_error_handler(request, exc)


EXCEPTION_HANDLERS = {
    RecursionError: recursion_error_handler,
    ContestError: contest_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
