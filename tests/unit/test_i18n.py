"""Numbers and dates on pages are written the German way first, the English way on request."""

from __future__ import annotations

import datetime as dt

from contest.errors import ConfigError, ContestError, IngestError
from web.i18n import error_text, fmt_date, fmt_datetime, fmt_number, fmt_percent, message, pick_language


def test_german_numbers_use_decimal_comma_and_thousands_points() -> None:
    assert fmt_number(1234567.891, "de", 1) == "1.234.567,9"
    assert fmt_number(-1234.5, "de", 1) == "-1.234,5"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_number(None, "de") == "–"
    # A tiny negative value that rounds to zero shows as zero, without a minus sign.
    assert fmt_percent(-0.00004, "de") == "0,0\u00a0%" and fmt_number(-0.04, "en", 1) == "0.0"
    assert fmt_number(-0.06, "en", 1) == "-0.1"


def test_percent_shows_fraction_as_percentage() -> None:
    # CLDR's German percent pattern is "#,##0\u00a0%": a no-break space keeps "12,3 %" on one line.
    assert fmt_percent(0.1234, "de") == "12,3\u00a0%"
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


def test_times_follow_any_contest_zone_with_its_summer_time() -> None:
    winter = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC)
    assert fmt_datetime(winter, "America/New_York", "de") == "15.01.2026, 07:00 Uhr"
    assert fmt_datetime(summer, "America/New_York", "en") == "2026-07-15 08:00"
    assert fmt_datetime(winter, "Europe/Lisbon", "en") == "2026-01-15 12:00"
    assert fmt_datetime(summer, "Europe/Lisbon", "de") == "15.07.2026, 13:00 Uhr"
    # The day changes with the zone: 02:00 UTC is still the evening before in New York.
    late = dt.datetime(2026, 1, 16, 2, 0, tzinfo=dt.UTC)
    assert fmt_datetime(late, "America/New_York", "de") == "15.01.2026, 21:00 Uhr"


def test_dates_and_rounding_follow_cldr() -> None:
    assert fmt_date(dt.date(2026, 7, 1), "de") == "01.07.2026"
    assert fmt_date(dt.date(2026, 7, 1), "en") == "2026-07-01"
    # Babel rounds the decimal as written, half to even (CLDR's default), not the binary float.
    assert fmt_number(0.25, "de", 1) == "0,2" and fmt_number(0.35, "en", 1) == "0.4"
    assert fmt_number(float("nan"), "de") == "–" and fmt_percent(None, "en") == "–"
    assert fmt_number(1234.5, "de", 0) == "1.234"


def test_an_error_is_shown_from_its_key_in_the_visitors_language() -> None:
    overlap = ConfigError(
        "overlaps the absence 2026-01-12 to 2026-01-13",
        key="absence.overlap",
        params={"first_day": dt.date(2026, 1, 12), "last_day": dt.date(2026, 1, 13)},
    )
    assert error_text(overlap, "de") == "Überschneidet sich mit Ihrer Abwesenheit 12.01.2026–13.01.2026."
    assert error_text(overlap, "en") == "Overlaps your absence 2026-01-12 – 2026-01-13."
    big = IngestError("the file is larger than 20 MB", key="upload.too_large", params={"mb": 20})
    assert error_text(big, "de") == "Die Datei ist größer als 20 MB." and "/" not in error_text(big, "de")
    # Numbers in parameters are written the language's way.
    long = ConfigError("too long", key="absence.too_long", params={"max_days": 1000, "days": 1234})
    assert "höchstens 1.000 Tage" in error_text(long, "de") and "(1,234 given)" in error_text(long, "en")


def test_an_error_without_words_in_the_catalog_falls_back_to_its_message() -> None:
    assert error_text(ContestError("something odd", key="no.such_key"), "de") == "something odd"
    # A sentence whose parameters did not come with the error: the message rather than a broken sentence.
    assert error_text(ConfigError("taken", key="household.pseudonym_taken"), "de") == "taken"
    assert message("upload.empty", {}, "en") == "The file is empty."
