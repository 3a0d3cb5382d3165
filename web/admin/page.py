"""The staff's admin page: HTML and a small script that calls only the admin API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from web.catalog import ADMIN_TEXTS, TEXTS
from web.i18n import pick_language
from web.messages import MESSAGES

#: The page runs only its own script and talks only to this origin; the token never leaves it.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class AdminPage(Controller):
    include_in_schema = False

    @get("/admin", sync_to_thread=False)
    def page(self, request: Request[Any, Any, Any]) -> Template:
        """The staff's page: a token form, then contests, households, flags, snapshots, rejected records.
        It holds no data itself: its script calls the admin API with the token from sessionStorage."""
        lang = pick_language(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language"),
        )
        texts = ADMIN_TEXTS[lang]
        return Template(
            "admin.html",
            context={
                "lang": lang,
                "other_lang": "en" if lang == "de" else "de",
                "t": {**TEXTS[lang], **texts},
                # the script's words, with the sentences of findings and rejected records by key
                "texts": {**texts, **MESSAGES[lang]},
            },
            headers=_PAGE_HEADERS,
        )
