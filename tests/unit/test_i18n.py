"""Numbers and dates on pages are written the German way first, the English way on request."""

from __future__ import annotations

import datetime as dt

from web.i18n import fmt_datetime, fmt_number, fmt_percent, pick_language


def test_german_numbers_use_decimal_comma_and_thousands_points() -> None:
    assert fmt_number(1234567.891, "de", 1) == "1.234.567,9"
    assert fmt_number(-1234.5, "de", 1) == "-1.234,5"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_number(None, "de") == "–"
    # A tiny negative value that rounds to zero shows as zero, without a minus sign.
    assert fmt_percent(-0.00004, "de") == "0,0 %" and fmt_number(-0.04, "en", 1) == "0.0"
    assert fmt_number(-0.06, "en", 1) == "-0.1"


def test_percent_shows_fraction_as_percentage() -> None:
    assert fmt_percent(0.1234, "de") == "12,3 %"
    assert fmt_percent(-0.05, "en") == "-5.0%"


def test_times_are_shown_in_the_contest_zone() -> None:
    winter = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    assert fmt_datetime(winter, "Europe/Berlin", "de") == "25.11.2026, 10:00 Uhr"
    summer = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
    assert fmt_datetime(summer, "Europe/Berlin", "en") == "2026-07-01 11:00"


def test_language_is_german_unless_the_visitor_picks_english() -> None:
    assert pick_language(None, None, None) == "de"
    assert pick_language(None, None, "fr-FR, it;q=0.8") == "de"  # neither offered: German
    assert pick_language(None, None, "en-US,en;q=0.9") == "en"  # the browser prefers English
    assert pick_language(None, None, "en;q=0.5, de-DE") == "de"  # by q-value, not by order
    assert pick_language("en", None, "de-DE") == "en"  # the switch wins over the browser
    assert pick_language(None, "en", "de-DE") == "en"  # and the remembered choice too
    assert pick_language("de", "en", "en") == "de"
    assert pick_language("xx", "yy", None) == "de"
