"""The visitor's language: which one, numbers and dates written its way (Babel, CLDR), and the sentences
for the stable keys that errors, rejections and findings carry from below the web layer."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, format_decimal, parse_pattern
from litestar.enums import ScopeType

from contest.errors import ContestError
from web.catalog import LANGUAGES, TEXTS
from web.messages import MESSAGES

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

#: Shown for a missing number.
MISSING = "–"
#: Dates and times as the pages write them (CLDR patterns): German DIN 5008, English ISO 8601 (the
#: contests are German and an English visitor should not have to guess which number is the month).
_DATE_PATTERNS = {"de": "dd.MM.y", "en": "y-MM-dd"}
_DATETIME_PATTERNS = {"de": "dd.MM.y, HH:mm 'Uhr'", "en": "y-MM-dd HH:mm"}


def pick_language(
    query_lang: str | None, cookie_lang: str | None = None, accept_language: str | None = None
) -> str:
    """German by default; English by choice: the switch (``?lang=en``), the remembered choice (the
    ``lang`` cookie), or a browser that prefers English to German (Accept-Language, by q-value)."""
    for choice in (query_lang, cookie_lang):
        if choice in LANGUAGES:
            return choice
    if accept_language:
        ranked = []
        for position, part in enumerate(accept_language.split(",")):
            code, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            ranked.append((-q, position, code.strip().lower()[:2]))
        for _q, _pos, code in sorted(ranked):
            if code in LANGUAGES:
                return code
    return "de"


def category_label(category: str, lang: str) -> str:
    """A ranking category as shown: household size classes "1" -> "1 Person", "5+" -> "5+ Personen"
    (de) / "5+ persons" (en); any other label as it is."""
    texts = TEXTS[lang]
    if category == "1":
        return texts["category_one_person"]
    if category.rstrip("+").isdigit():
        return texts["category_persons"].format(n=category)
    return category


def _shown_decimal(value: float, decimals: int) -> Decimal | None:
    """``value`` as the decimal Babel rounds (from its shortest repr, half to even as CLDR says), without
    the sign of a value that rounds to zero (-0.0004 shows as 0,0, not as -0,0); None if not finite."""
    if not math.isfinite(value):
        return None
    number = Decimal(repr(float(value)))
    return abs(number) if round(number, decimals).is_zero() else number


def _decimals_pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


# A page writes hundreds of numbers: the locale and the parsed patterns are made once (Babel would parse
# both on every call, which costs more than the formatting).
@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@functools.cache
def _number_pattern(lang: str, decimals: int, percent: bool) -> NumberPattern:
    if not percent:
        return parse_pattern(_decimals_pattern(decimals))
    own = _locale(lang).percent_formats[None].pattern  # "#,##0\u00a0%" (de), "#,##0%" (en)
    return parse_pattern(own.replace("#,##0", _decimals_pattern(decimals), 1))


def fmt_number(value: float | None, lang: str, decimals: int = 1) -> str:
    """1234.5 -> "1.234,5" (de) / "1,234.5" (en); None (or not finite) -> "–"."""
    number = None if value is None else _shown_decimal(value, decimals)
    if number is None:
        return MISSING
    return str(_number_pattern(lang, decimals, False).apply(number, _locale(lang)))


def fmt_percent(fraction: float | None, lang: str, decimals: int = 1) -> str:
    """0.123 -> "12,3 %" (de, with CLDR's no-break space) / "12.3%" (en): the language's own percent
    pattern with ``decimals`` places."""
    number = None if fraction is None else _shown_decimal(fraction * 100, decimals)
    if number is None:
        return MISSING
    return str(_number_pattern(lang, decimals, True).apply(number / 100, _locale(lang)))


def fmt_datetime(value: dt.datetime, tz: str, lang: str) -> str:
    """An instant in the contest's zone ``tz`` (IANA name): "25.11.2026, 10:00 Uhr" / "2026-11-25 10:00"."""
    return format_datetime(value, _DATETIME_PATTERNS[lang], tzinfo=ZoneInfo(tz), locale=_locale(lang))


def fmt_date(value: dt.date, lang: str) -> str:
    """A calendar day: "25.11.2026" / "2026-11-25"."""
    return format_date(value, _DATE_PATTERNS[lang], locale=_locale(lang))


def _shown_param(value: object, lang: str) -> object:
    """A message parameter written the language's way: days as dates, numbers with its separators."""
    if isinstance(value, dt.datetime):  # sentences name days; an instant (no contest zone here) says UTC
        return fmt_datetime(value, "UTC", lang) + " UTC"
    if isinstance(value, dt.date):
        return fmt_date(value, lang)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return format_decimal(value, locale=lang)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.###", locale=lang) if math.isfinite(value) else value
    if isinstance(value, list | tuple):
        return ", ".join(f"„{item}“" if lang == "de" else f"'{item}'" for item in value)
    return value


def message(key: str, params: Mapping[str, object], lang: str, default: str = "") -> str:
    """The sentence of a stable ``key`` (an error, a rejection) in ``lang`` with its ``params`` filled in;
    ``default`` if the catalog has no such key."""
    template = MESSAGES[lang].get(key)
    if template is None:
        return default
    try:
        return template.format_map({name: _shown_param(value, lang) for name, value in params.items()})
    except (KeyError, IndexError, ValueError):
        log.warning("the %s text for %r does not fit its parameters %r", lang, key, sorted(params))
        return default


def error_text(exc: ContestError, lang: str) -> str:
    """What a visitor reads for a project error: its key's sentence, or the (English) message if the
    catalog lacks the key."""
    if exc.key not in MESSAGES[lang]:
        log.warning("no %s text for the error key %r", lang, exc.key)
    return message(exc.key, exc.params, lang, default=exc.message)


def _language_cookie(scope: Scope) -> bytes | None:
    """The ``Set-Cookie`` value for a page opened with ``?lang=xx``, if it was."""
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "lang" and value in LANGUAGES:
            return f"lang={value}; Path=/; Max-Age=31536000; SameSite=Lax".encode("latin-1")
    return None


def remember_language(app: ASGIApp) -> ASGIApp:
    """Middleware of the HTML pages: a page opened with ``?lang=xx`` remembers the choice in a cookie.
    (Only on pages: the JSON API does not pay for it.)"""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        cookie = _language_cookie(scope) if scope["type"] == ScopeType.HTTP else None
        if cookie is None:
            await app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                # ASGI allows any iterable of headers here; copy it to a list to add ours.
                headers = list(message.get("headers", ()))
                headers.append((b"set-cookie", cookie))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_cookie)

    return middleware
