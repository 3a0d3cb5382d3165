"""User-interface texts, German first, English too, and number/date formatting per language."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

LANGUAGES = ("de", "en")

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "leaderboard": "Rangliste",
        "teams": "Teams",
        "households": "Haushalte",
        "rank": "Rang",
        "team": "Team",
        "household": "Haushalt",
        "savings": "Einsparung",
        "kwh_saved": "kWh gespart",
        "kwh_per_person": "kWh je Person",
        "members": "Gewertet / Mitglieder",
        "coverage": "Datenabdeckung",
        "as_of": "Stand",
        "competition": "Wettbewerb",
        "baseline": "Vergleichszeitraum",
        "day_of": "Tag {n} von {total}",
        "not_started": "Der Wettbewerb hat noch nicht begonnen.",
        "not_enough_data": "zu wenig Daten",
        "not_ranked_team": "zu wenige gewertete Mitglieder",
        "no_teams": "Noch keine Teams.",
        "no_households": "Noch keine Haushalte, die öffentlich erscheinen möchten.",
        "how_scored": "So wird gewertet",
        "how_scored_text": (
            "Jeder Haushalt wird mit sich selbst verglichen: Grundlage ist sein durchschnittlicher "
            "Tagesverbrauch im Vergleichszeitraum. Gezählt werden nur Wettbewerbstage mit Messdaten; "
            "ein fehlender Tag zählt nie als Einsparung. Gewertet wird, wer in beiden Zeiträumen an "
            "mindestens {cov} der Tage Daten hat. Ein Team zählt mit mindestens {members} gewerteten "
            "Mitgliedern. Gleiche angezeigte Prozentwerte teilen sich einen Rang."
        ),
        "households_note": (
            "Es erscheinen nur Haushalte, die der Veröffentlichung zugestimmt haben, unter ihrem Pseudonym. "
            "Der Rang zählt alle teilnehmenden Haushalte."
        ),
        "contests": "Wettbewerbe",
        "no_contests": "Es gibt noch keinen Wettbewerb.",
        "not_found_title": "Nicht gefunden",
        "error_title": "Fehler",
        "back": "Zur Startseite",
        "api": "Daten als JSON",
        "language": "English",
        "carrier_electricity": "Strom",
        "carrier_gas": "Gas",
        "carrier_heat": "Wärme",
        "persons": "Personen",
        "portal": "Haushaltsportal",
        "login_intro": "Melden Sie sich mit dem persönlichen Zugangscode an, den Sie von der Stadt erhalten haben.",
        "login_failed": "Dieser Zugangscode ist nicht gültig.",
        "login_throttled": "Zu viele falsche Versuche. Bitte in 10 Minuten erneut versuchen.",
        "access_code": "Zugangscode",
        "sign_in": "Anmelden",
        "sign_out": "Abmelden",
        "upload_title": "Zählerdaten hochladen",
        "upload_help": "CSV-Export Ihres Messstellenbetreibers, Smart-Home-Systems oder abgelesene Zählerstände (höchstens {mb} MB).",
        "meter": "Zähler",
        "file": "Datei",
        "check_file": "Datei prüfen",
        "past_imports": "Bisherige Importe",
        "no_imports": "Noch keine Importe.",
        "when": "Zeitpunkt",
        "stored": "gespeichert",
        "duplicates": "schon vorhanden",
        "rejected": "abgelehnt",
        "rejected_lc": "abgelehnt",
        "preview_title": "Vorschau: Das wird importiert",
        "detected_format": "Erkanntes Format",
        "period": "Zeitraum",
        "rows": "Zeilen",
        "usable_of": "verwendbar von",
        "energy_total": "Energie gesamt",
        "ignored_columns": "Ignorierte Spalten",
        "first_rows": "Erste Zeilen",
        "rejected_rows": "Abgelehnte Zeilen",
        "line": "Zeile",
        "reason": "Grund",
        "content": "Inhalt",
        "confirm_import": "Importieren",
        "cancel": "Abbrechen",
        "report_title": "Import abgeschlossen",
        "download_rejected": "Abgelehnte Zeilen als CSV herunterladen",
        "back_to_portal": "Zurück zum Portal",
        "my_data": "Meine Daten",
        "co2_saved": "CO₂ vermieden",
        "tied_title": "statistisch gleichauf: der Unterschied zum Nachbarn liegt in der Messunsicherheit",
        "progress_title": "Verlauf: bisher gesparte kWh je Team",
        "progress_caption": "Je Tag der Stand der letzten Veröffentlichung; die besten zehn Teams.",
        "settings": "Einstellungen",
        "settings_saved": "Gespeichert. Die Rangliste zeigt die Änderung mit der nächsten Veröffentlichung.",
        "pseudonym": "Pseudonym (öffentlicher Name)",
        "public_listing_label": "In der öffentlichen Rangliste unter meinem Pseudonym erscheinen",
        "save": "Speichern",
        "pages": "Seiten",
        "previous": "zurück",
        "next": "weiter",
        "page_of": "Seite {n} von {total}",
        "my_progress": "Mein Fortschritt",
        "day": "Tag",
        "baseline_method_text": "Ihr mittlerer Tagesverbrauch im Vergleichszeitraum",
        "public_listing": "Öffentlich gelistet",
        "yes": "ja",
        "no": "nein",
        "no_standing_yet": "Noch keine Wertung – sie erscheint mit der nächsten Veröffentlichung.",
        "chart_title": "Täglicher Verbrauch im Wettbewerb gegenüber dem Vergleichswert",
        "chart_caption": "Balken: Verbrauch je Tag (grün unter, rot über dem Vergleichswert); Linie: Vergleichswert.",
        "participants": "Teilnehmende Haushalte",
        "with_enough_data": "mit genug Daten",
        "saved_so_far": "Bisher gespart",
        "widget": "Widget zum Einbetten",
        "full_leaderboard": "Ganze Rangliste",
        "download_json": "Alle Daten herunterladen (JSON)",
        "download_csv": "Messwerte herunterladen (CSV)",
        "delete_label": "Konto und alle Daten löschen – zur Bestätigung LÖSCHEN eingeben",
        "delete_word": "LÖSCHEN",
        "delete_button": "Endgültig löschen",
        "delete_confirm_needed": "Bitte zur Bestätigung LÖSCHEN eingeben.",
        "deleted_done": "Ihr Konto und alle Daten wurden gelöscht.",
    },
    "en": {
        "leaderboard": "Leaderboard",
        "teams": "Teams",
        "households": "Households",
        "rank": "Rank",
        "team": "Team",
        "household": "Household",
        "savings": "Savings",
        "kwh_saved": "kWh saved",
        "kwh_per_person": "kWh per person",
        "members": "Ranked / members",
        "coverage": "Data coverage",
        "as_of": "As of",
        "competition": "Competition",
        "baseline": "Baseline period",
        "day_of": "day {n} of {total}",
        "not_started": "The competition has not started yet.",
        "not_enough_data": "not enough data",
        "not_ranked_team": "too few ranked members",
        "no_teams": "No teams yet.",
        "no_households": "No households have chosen to be listed publicly yet.",
        "how_scored": "How scoring works",
        "how_scored_text": (
            "Every household is compared with itself: the reference is its mean daily consumption in "
            "the baseline period. Only competition days with meter data count; a missing day never "
            "counts as a saving. A household is ranked when both periods have data on at least {cov} "
            "of their days. A team is ranked with at least {members} ranked members. Equal percentages "
            "as shown share a rank."
        ),
        "households_note": (
            "Only households that agreed to be listed appear, under their pseudonym. "
            "Ranks count all participating households."
        ),
        "contests": "Contests",
        "no_contests": "There is no contest yet.",
        "not_found_title": "Not found",
        "error_title": "Error",
        "back": "Home",
        "api": "Data as JSON",
        "language": "Deutsch",
        "carrier_electricity": "Electricity",
        "carrier_gas": "Gas",
        "carrier_heat": "Heat",
        "persons": "persons",
        "portal": "Household portal",
        "login_intro": "Sign in with the personal access code you received from the city.",
        "login_failed": "This access code is not valid.",
        "login_throttled": "Too many wrong attempts. Please try again in 10 minutes.",
        "access_code": "Access code",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "upload_title": "Upload meter data",
        "upload_help": "A CSV export of your metering operator or smart-home system, or meter readings you noted (at most {mb} MB).",
        "meter": "Meter",
        "file": "File",
        "check_file": "Check file",
        "past_imports": "Past imports",
        "no_imports": "No imports yet.",
        "when": "Time",
        "stored": "stored",
        "duplicates": "already there",
        "rejected": "rejected",
        "rejected_lc": "rejected",
        "preview_title": "Preview: this will be imported",
        "detected_format": "Detected format",
        "period": "Period",
        "rows": "Rows",
        "usable_of": "usable of",
        "energy_total": "Total energy",
        "ignored_columns": "Ignored columns",
        "first_rows": "First rows",
        "rejected_rows": "Rejected rows",
        "line": "Line",
        "reason": "Reason",
        "content": "Content",
        "confirm_import": "Import",
        "cancel": "Cancel",
        "report_title": "Import finished",
        "download_rejected": "Download rejected rows as CSV",
        "back_to_portal": "Back to the portal",
        "my_data": "My data",
        "co2_saved": "CO₂ avoided",
        "tied_title": "statistically tied: the difference to the neighbour is within the uncertainty",
        "progress_title": "Progress: kWh saved so far per team",
        "progress_caption": "Each day as last published; the ten best teams.",
        "settings": "Settings",
        "settings_saved": "Saved. The leaderboard shows the change with its next publication.",
        "pseudonym": "Pseudonym (public name)",
        "public_listing_label": "Appear on the public leaderboard under my pseudonym",
        "save": "Save",
        "pages": "Pages",
        "previous": "previous",
        "next": "next",
        "page_of": "page {n} of {total}",
        "my_progress": "My progress",
        "day": "day",
        "baseline_method_text": "your mean daily consumption in the baseline period",
        "public_listing": "Listed publicly",
        "yes": "yes",
        "no": "no",
        "no_standing_yet": "No result yet – it appears with the next publication.",
        "chart_title": "Daily consumption in the competition against the baseline",
        "chart_caption": "Bars: consumption per day (green below, red above the baseline); line: baseline.",
        "participants": "Participating households",
        "with_enough_data": "with enough data",
        "saved_so_far": "Saved so far",
        "widget": "Embeddable widget",
        "full_leaderboard": "Full leaderboard",
        "download_json": "Download all data (JSON)",
        "download_csv": "Download readings (CSV)",
        "delete_label": "Delete account and all data – type DELETE to confirm",
        "delete_word": "DELETE",
        "delete_button": "Delete for good",
        "delete_confirm_needed": "Please type DELETE to confirm.",
        "deleted_done": "Your account and all data have been deleted.",
    },
}


def pick_language(
    query_lang: str | None, cookie_lang: str | None = None, accept_language: str | None = None
) -> str:
    """German by default; English by choice: the switch (``?lang=en``), the remembered choice (the
    ``lang`` cookie), or a browser that prefers English to German (Accept-Language, by q-value)."""
    for choice in (query_lang, cookie_lang):
        if choice in LANGUAGES:
            return choice  # type: ignore[return-value]
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


def _group(number: str, sep: str) -> str:
    head, _, tail = number.partition(".")
    sign = "-" if head.startswith("-") else ""
    head = head.lstrip("-")
    groups = []
    while len(head) > 3:
        groups.insert(0, head[-3:])
        head = head[:-3]
    groups.insert(0, head)
    return sign + sep.join(groups) + (("," if sep == "." else ".") + tail if tail else "")


def fmt_number(value: float | None, lang: str, decimals: int = 1) -> str:
    """1234.5 -> "1.234,5" (de) / "1,234.5" (en); None -> "–"."""
    if value is None:
        return "–"
    text = f"{value:.{decimals}f}"
    return _group(text, "." if lang == "de" else ",")


def fmt_percent(fraction: float | None, lang: str, decimals: int = 1) -> str:
    """0.123 -> "12,3 %" (de) / "12.3%" (en)."""
    if fraction is None:
        return "–"
    number = fmt_number(fraction * 100, lang, decimals)
    return f"{number} %" if lang == "de" else f"{number}%"


def fmt_datetime(value: dt.datetime, tz: str, lang: str) -> str:
    local = value.astimezone(ZoneInfo(tz))
    if lang == "de":
        return local.strftime("%d.%m.%Y, %H:%M Uhr")
    return local.strftime("%Y-%m-%d %H:%M")


def fmt_date(value: dt.date, lang: str) -> str:
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()


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
        cookie = _language_cookie(scope) if scope["type"] == "http" else None
        if cookie is None:
            await app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"set-cookie", cookie))
            await send(message)

        await app(scope, receive, send_with_cookie)

    return middleware
