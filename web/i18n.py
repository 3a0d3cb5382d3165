"""User-interface texts, German first, English too, and number/date formatting per language."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from litestar.enums import ScopeType

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
        "login_throttled": "Zu viele falsche Codes von diesem Netz. Bitte den Code genau prüfen – ein richtiger Code gilt weiterhin.",
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
        "history_title": "Ihr Rangverlauf",
        "history_help": "Jede veröffentlichte Rangliste ist gespeichert. Hier sehen Sie, wann sich Ihr Rang geändert hat und warum.",
        "history_when": "Stand",
        "history_why": "Warum",
        "history_occasion": "Anlass",
        "no_history": "Noch keine Veröffentlichung mit Ihrer Wertung.",
        "why_first": "Erste Wertung",
        "why_status_ranked": "Jetzt in der Wertung: genug Daten",
        "why_status_unranked": "Nicht mehr in der Wertung: zu wenig Daten oder in Prüfung",
        "why_coverage": "Datenabdeckung im Wettbewerb {before} → {after} (Daten nachgeliefert oder neu)",
        "why_baseline": "Vergleichswert {before} → {after} kWh/Tag (Daten im Vergleichszeitraum oder Abwesenheiten geändert)",
        "why_savings": "Ihre Einsparung {before} → {after}",
        "why_field_size": "Haushalte in der Wertung {before} → {after}",
        "why_others_up": "Ihre Einsparung blieb gleich; andere Haushalte fielen zurück",
        "why_others_down": "Ihre Einsparung blieb gleich; andere Haushalte haben Sie überholt",
        "occasion_schedule": "regelmäßige Aktualisierung",
        "occasion_import": "neue Daten",
        "occasion_manual": "durch die Stadt",
        "occasion_close": "Endstand",
        "occasion_reopen": "Ergebnis zur Prüfung wieder geöffnet",
        "occasion_absence": "Abwesenheit geändert",
        "occasion_settings": "Einstellungen geändert",
        "occasion_deletion": "ein Haushalt hat sich abgemeldet",
        "occasion_first_view": "erste Veröffentlichung",
        "absences_title": "Abwesenheiten",
        "absences_help": "Waren Sie verreist? Tage, an denen niemand zu Hause war, zählen weder im Vergleichszeitraum noch im Wettbewerb – so verfälscht ein Urlaub Ihr Ergebnis nicht.",
        "absence_from": "Von",
        "absence_to": "Bis",
        "absence_note": "Notiz (optional)",
        "absence_add": "Abwesenheit eintragen",
        "absence_remove": "Entfernen",
        "absence_days": "Tage",
        "no_absences": "Keine Abwesenheiten eingetragen.",
        "absence_saved": "Abwesenheit eingetragen. Die Rangliste berücksichtigt sie mit der nächsten Veröffentlichung.",
        "absence_removed": "Abwesenheit entfernt.",
        "building_type": "Wohnform",
        "building_flat": "Wohnung (Mehrfamilienhaus)",
        "building_house": "Ein- oder Zweifamilienhaus",
        "not_stated": "keine Angabe",
        "electric_hot_water": "Warmwasser elektrisch (z. B. Durchlauferhitzer, Boiler)",
        "peer_title": "Vergleich mit ähnlichen Haushalten",
        "peer_help": "Diese Angaben nutzt der Vergleich mit ähnlichen Haushalten (Stromspiegel), wenn Ihnen eigene Vorjahresdaten fehlen.",
        "pseudonym": "Pseudonym (öffentlicher Name)",
        "public_listing_label": "In der öffentlichen Rangliste unter meinem Pseudonym erscheinen (mit Team, Einsparung und Datenabdeckung; in Wettbewerben mit Größenklassen auch meine Haushaltsgröße, und mit Wohnfläche die Einsparung je m²)",
        "save": "Speichern",
        "pages": "Seiten",
        "previous": "zurück",
        "next": "weiter",
        "page_of": "Seite {n} von {total}",
        "my_progress": "Mein Fortschritt",
        "day": "Tag",
        "baseline_method_text": "Ihr mittlerer Tagesverbrauch im Vergleichszeitraum",
        "method_prior_period_mean": "Ihr mittlerer Tagesverbrauch im Vergleichszeitraum vor dem Wettbewerb",
        "method_prior_year_same_period": "Ihr Verbrauch im gleichen Zeitraum des Vorjahres (mit gleich vielen Werktagen und Wochenenden)",
        "method_degree_day_regression": "Ihr Verbrauch, wie er bei der Witterung dieser Tage zu erwarten wäre (Gradtagsmodell aus Ihren früheren Daten)",
        "method_peer_benchmark": "Vergleichbare Haushalte laut Stromspiegel (Haushaltsgröße, Wohnform, Warmwasser) – Ihnen fehlen eigene frühere Daten",
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
        "categories_title": "Ranglisten nach Haushaltsgröße",
        "categories_note": (
            "Jede Größenklasse hat ihre eigene Rangliste. Der Rang in der Klasse zählt alle "
            "teilnehmenden Haushalte dieser Größe."
        ),
        "all_households": "Alle Haushalte",
        "category_one_person": "1 Person",
        "category_persons": "{n} Personen",
        "households_caption": "Alle öffentlich gelisteten Haushalte nach Rang",
        "category_caption": "Haushalte mit {label} nach Rang in ihrer Größenklasse",
        "overall_rank": "Gesamtrang",
        "kwh_per_m2": "kWh/m² gespart",
        "no_households_category": "In dieser Größenklasse möchte noch kein Haushalt öffentlich erscheinen.",
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
        "login_throttled": "Too many wrong codes from this network. Please check the code carefully – a correct code still works.",
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
        "history_title": "Your rank history",
        "history_help": "Every published leaderboard is kept. Here you see when your rank changed and why.",
        "history_when": "As of",
        "history_why": "Why",
        "history_occasion": "Occasion",
        "no_history": "No publication with your result yet.",
        "why_first": "First result",
        "why_status_ranked": "Now ranked: enough data",
        "why_status_unranked": "No longer ranked: not enough data or under review",
        "why_coverage": "Data coverage of the competition {before} → {after} (late or new data)",
        "why_baseline": "Baseline {before} → {after} kWh/day (data in the baseline period or absences changed)",
        "why_savings": "Your savings {before} → {after}",
        "why_field_size": "Ranked households {before} → {after}",
        "why_others_up": "Your savings stayed the same; other households fell behind",
        "why_others_down": "Your savings stayed the same; other households overtook you",
        "occasion_schedule": "regular update",
        "occasion_import": "new data",
        "occasion_manual": "by the city",
        "occasion_close": "final result",
        "occasion_reopen": "result reopened for review",
        "occasion_absence": "absence changed",
        "occasion_settings": "settings changed",
        "occasion_deletion": "a household left",
        "occasion_first_view": "first publication",
        "absences_title": "Absences",
        "absences_help": "Were you away? Days when nobody was at home count neither in the baseline nor in the competition, so a holiday does not distort your result.",
        "absence_from": "From",
        "absence_to": "To",
        "absence_note": "Note (optional)",
        "absence_add": "Add absence",
        "absence_remove": "Remove",
        "absence_days": "days",
        "no_absences": "No absences declared.",
        "absence_saved": "Absence saved. The leaderboard takes it into account with its next publication.",
        "absence_removed": "Absence removed.",
        "building_type": "Type of home",
        "building_flat": "Flat (apartment building)",
        "building_house": "Single- or two-family house",
        "not_stated": "not stated",
        "electric_hot_water": "Hot water heated electrically (e.g. instantaneous or storage heater)",
        "peer_title": "Comparison with similar households",
        "peer_help": "The comparison with similar households (Stromspiegel) uses these when you have no history of your own.",
        "pseudonym": "Pseudonym (public name)",
        "public_listing_label": "Appear on the public leaderboard under my pseudonym (with team, savings and data coverage; in contests with size classes also my household size, and with a living area the savings per m²)",
        "save": "Save",
        "pages": "Pages",
        "previous": "previous",
        "next": "next",
        "page_of": "page {n} of {total}",
        "my_progress": "My progress",
        "day": "day",
        "baseline_method_text": "your mean daily consumption in the baseline period",
        "method_prior_period_mean": "your mean daily consumption in the baseline period before the contest",
        "method_prior_year_same_period": "your consumption in the same period of the previous year (with as many weekdays and weekend days)",
        "method_degree_day_regression": "your consumption as expected for this weather (a degree-day model of your earlier data)",
        "method_peer_benchmark": "similar households per the Stromspiegel (size, type of home, hot water) – you have no earlier data of your own",
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
        "categories_title": "Rankings by household size",
        "categories_note": (
            "Each size class has its own ranking. Ranks within a class count all participating "
            "households of that size."
        ),
        "all_households": "All households",
        "category_one_person": "1 person",
        "category_persons": "{n} persons",
        "households_caption": "All publicly listed households by rank",
        "category_caption": "Households of {label} by rank within their size class",
        "overall_rank": "Overall rank",
        "kwh_per_m2": "kWh/m² saved",
        "no_households_category": "No household of this size class has chosen to be listed publicly yet.",
    },
}


#: Texts of the staff's admin page (/admin) and its script; merged over TEXTS on that page only.
ADMIN_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "admin_title": "Verwaltung",
        "admin_intro": "Für die Mitarbeitenden der Stadt. Die Seite ruft nur die Admin-API auf; das Token bleibt bis zum Schließen des Tabs in diesem Browser-Tab.",
        "admin_token": "API-Token",
        "admin_token_help": "Ein Token erzeugen: contest admin token NAME",
        "admin_use_token": "Anmelden",
        "admin_forget_token": "Abmelden",
        "admin_signed_in": "Angemeldet.",
        "admin_signed_out": "Abgemeldet.",
        "admin_token_invalid": "Das Token ist ungültig oder widerrufen.",
        "admin_loading": "Lädt …",
        "admin_error": "Fehler",
        "admin_contests": "Wettbewerbe",
        "admin_no_contests": "Noch kein Wettbewerb angelegt.",
        "admin_slug": "Kennung",
        "admin_name": "Name",
        "admin_status": "Status",
        "admin_status_running": "läuft",
        "admin_status_closed": "abgeschlossen",
        "admin_open": "Öffnen",
        "admin_competition": "Wettbewerbszeitraum",
        "admin_publish_now": "Jetzt veröffentlichen",
        "admin_published": "Neue Rangliste veröffentlicht (Nr. {id}).",
        "admin_results_csv": "Ergebnisse als CSV",
        "admin_households": "Haushalte",
        "admin_no_households": "Noch keine Haushalte.",
        "admin_id": "Nr.",
        "admin_pseudonym": "Pseudonym",
        "admin_team": "Team",
        "admin_no_team": "(kein Team)",
        "admin_persons": "Personen",
        "admin_area": "Wohnfläche (m²)",
        "admin_public": "Öffentlich",
        "admin_meters": "Zähler",
        "admin_last_day": "Letzter Datentag",
        "admin_actions": "Aktionen",
        "admin_edit": "Bearbeiten",
        "admin_new_code": "Neuer Zugangscode",
        "admin_new_code_confirm": "Neuen Zugangscode für {name} erzeugen? Der bisherige Code gilt dann nicht mehr.",
        "admin_new_code_done": "Neuer Zugangscode für {name} (wird nur jetzt angezeigt):",
        "admin_edit_title": "Haushalt bearbeiten: {name}",
        "admin_public_label": "In der öffentlichen Rangliste unter dem Pseudonym zeigen",
        "admin_save": "Speichern",
        "admin_cancel": "Abbrechen",
        "admin_saved": "Gespeichert. Die Rangliste folgt mit der nächsten Veröffentlichung.",
        "admin_flags": "Auffälligkeiten (Plausibilitätsprüfung)",
        "admin_no_flags": "Keine Auffälligkeiten.",
        "admin_flags_as_of": "Wertung mit Stand {as_of}",
        "admin_key": "Schlüssel",
        "admin_detail": "Beschreibung",
        "admin_evidence": "Belege",
        "admin_snapshots": "Veröffentlichte Ranglisten",
        "admin_no_snapshots": "Noch keine Veröffentlichung.",
        "admin_as_of": "Stand",
        "admin_published_at": "Veröffentlicht",
        "admin_reason": "Anlass",
        "admin_final": "Endstand",
        "admin_reason_schedule": "planmäßig",
        "admin_reason_manual": "manuell",
        "admin_reason_import": "nach Import",
        "admin_reason_close": "Abschluss",
        "admin_reason_reopen": "Wiederöffnung",
        "admin_reason_settings": "Einstellungen",
        "admin_reason_deletion": "Löschung",
        "admin_reason_first_view": "erster Aufruf",
        "admin_why": "Grund",
        "admin_rejected": "Abgelehnte Datensätze",
        "admin_no_rejected": "Keine abgelehnten Datensätze.",
        "admin_source": "Quelle",
        "admin_when": "Zeitpunkt",
        "admin_where": "Zeile / Topic",
        "admin_raw": "Inhalt",
        "admin_yes": "ja",
        "admin_no": "nein",
    },
    "en": {
        "admin_title": "Administration",
        "admin_intro": "For city staff. The page calls only the admin API; the token stays in this browser tab until the tab is closed.",
        "admin_token": "API token",
        "admin_token_help": "Create a token: contest admin token NAME",
        "admin_use_token": "Sign in",
        "admin_forget_token": "Sign out",
        "admin_signed_in": "Signed in.",
        "admin_signed_out": "Signed out.",
        "admin_token_invalid": "The token is invalid or revoked.",
        "admin_loading": "Loading …",
        "admin_error": "Error",
        "admin_contests": "Contests",
        "admin_no_contests": "No contest yet.",
        "admin_slug": "Slug",
        "admin_name": "Name",
        "admin_status": "Status",
        "admin_status_running": "running",
        "admin_status_closed": "closed",
        "admin_open": "Open",
        "admin_competition": "Competition period",
        "admin_publish_now": "Publish now",
        "admin_published": "New leaderboard published (no. {id}).",
        "admin_results_csv": "Results as CSV",
        "admin_households": "Households",
        "admin_no_households": "No households yet.",
        "admin_id": "No.",
        "admin_pseudonym": "Pseudonym",
        "admin_team": "Team",
        "admin_no_team": "(no team)",
        "admin_persons": "Persons",
        "admin_area": "Living area (m²)",
        "admin_public": "Public",
        "admin_meters": "Meters",
        "admin_last_day": "Last data day",
        "admin_actions": "Actions",
        "admin_edit": "Edit",
        "admin_new_code": "New access code",
        "admin_new_code_confirm": "Create a new access code for {name}? The current code stops working.",
        "admin_new_code_done": "New access code for {name} (shown only now):",
        "admin_edit_title": "Edit household: {name}",
        "admin_public_label": "Show on the public leaderboard under the pseudonym",
        "admin_save": "Save",
        "admin_cancel": "Cancel",
        "admin_saved": "Saved. The leaderboard follows with the next publication.",
        "admin_flags": "Flags (plausibility checks)",
        "admin_no_flags": "No flags.",
        "admin_flags_as_of": "Scoring as of {as_of}",
        "admin_key": "Key",
        "admin_detail": "Description",
        "admin_evidence": "Evidence",
        "admin_snapshots": "Published leaderboards",
        "admin_no_snapshots": "Nothing published yet.",
        "admin_as_of": "As of",
        "admin_published_at": "Published",
        "admin_reason": "Reason",
        "admin_final": "Final",
        "admin_reason_schedule": "scheduled",
        "admin_reason_manual": "manual",
        "admin_reason_import": "after an import",
        "admin_reason_close": "closing",
        "admin_reason_reopen": "reopened",
        "admin_reason_settings": "settings",
        "admin_reason_deletion": "deletion",
        "admin_reason_first_view": "first view",
        "admin_why": "Reason",
        "admin_rejected": "Rejected records",
        "admin_no_rejected": "No rejected records.",
        "admin_source": "Source",
        "admin_when": "Time",
        "admin_where": "Line / topic",
        "admin_raw": "Content",
        "admin_yes": "yes",
        "admin_no": "no",
    },
}


#: What each state of a contest's season means to visitors and households (contest.season).
SEASON_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "state_draft": "Entwurf",
        "state_announced": "Angekündigt",
        "state_running": "Läuft",
        "state_closing": "Vorläufiges Ergebnis",
        "state_final": "Endergebnis",
        "state_archived": "Archiv",
        "season_announced": "Der Wettbewerb beginnt am {start}.",
        "season_countdown_one": "Noch 1 Tag bis zum Start.",
        "season_countdown": "Noch {n} Tage bis zum Start.",
        "season_running": "Der Wettbewerb läuft: Tag {n} von {total}.",
        "season_closing": (
            "Der Wettbewerb ist beendet. Dies ist ein vorläufiges Ergebnis: Bis zum {grace_end} können "
            "Haushalte noch Daten nachreichen, die Zahlen können sich also noch ändern."
        ),
        "season_reopened": (
            "Die Stadt hat das Ergebnis zur Prüfung wieder geöffnet. Bis sie es erneut abschließt, ist es "
            "vorläufig."
        ),
        "season_final": "Festgestellt am {closed}; es ändert sich nicht mehr.",
        "season_archived": "Das Endergebnis wurde am {closed} festgestellt.",
        "join_title": "So machen Sie mit",
        "join_text": (
            "Jeder Haushalt tritt gegen seinen eigenen früheren Verbrauch an. Mit dem Zugangscode der Stadt "
            "melden Sie sich im Haushaltsportal an und laden Zählerstände oder einen Export Ihres Zählers "
            "für den Vergleichszeitraum ({baseline}) hoch – je mehr Tage, desto sicherer die Wertung. Ab dem "
            "Start zählt jeder Tag, an dem Sie weniger verbrauchen."
        ),
        "join_portal": "Zum Haushaltsportal",
        "signed_up": "Angemeldete Haushalte",
        "baseline_ready": "mit genug Daten im Vergleichszeitraum",
        "no_ranks_yet": "Ranglisten erscheinen mit dem Start des Wettbewerbs.",
        "winners": "Die Gewinner",
        "winner_team": "Bestes Team",
        "winner_households": "Beste Haushalte",
        "no_winners": "Niemand hatte genug Daten für eine Wertung.",
        "provisional": "vorläufig",
        "all_contests": "Alle Wettbewerbe",
        "contest_state": "Stand",
        "portal_baseline_title": "Ihr Vergleichszeitraum",
        "portal_baseline_coverage": "Tage mit Daten",
        "portal_baseline_value": "Ihr Vergleichswert",
        "portal_baseline_pending": "noch nicht genug Daten",
        "portal_baseline_help": (
            "Für eine Wertung brauchen Sie an mindestens {cov} der Tage des Vergleichszeitraums "
            "({baseline}) Daten. Laden Sie dafür Zählerstände oder einen Export hoch."
        ),
        "portal_final_upload": (
            "Das Endergebnis steht fest. Daten, die Sie jetzt hochladen, werden gespeichert, ändern das "
            "Endergebnis aber nicht mehr."
        ),
        "certificate": "Urkunde herunterladen (PDF)",
        "kwh_per_day": "kWh/Tag",
    },
    "en": {
        "state_draft": "Draft",
        "state_announced": "Announced",
        "state_running": "Running",
        "state_closing": "Provisional result",
        "state_final": "Final result",
        "state_archived": "Archive",
        "season_announced": "The competition starts on {start}.",
        "season_countdown_one": "1 day to go.",
        "season_countdown": "{n} days to go.",
        "season_running": "The competition is running: day {n} of {total}.",
        "season_closing": (
            "The competition has ended. This is a provisional result: households can still hand in data "
            "until {grace_end}, so the figures may still change."
        ),
        "season_reopened": "The city has reopened the result for review. It is provisional until it is closed again.",
        "season_final": "Declared on {closed}; it will not change any more.",
        "season_archived": "The final result was declared on {closed}.",
        "join_title": "How to take part",
        "join_text": (
            "Every household competes against its own earlier consumption. Sign in to the household portal "
            "with the access code from the city and upload meter readings or your meter's export for the "
            "baseline period ({baseline}): the more days, the more reliable your score. From the start, "
            "every day you use less counts."
        ),
        "join_portal": "To the household portal",
        "signed_up": "Households signed up",
        "baseline_ready": "with enough baseline data",
        "no_ranks_yet": "Leaderboards appear when the competition starts.",
        "winners": "The winners",
        "winner_team": "Best team",
        "winner_households": "Best households",
        "no_winners": "Nobody had enough data to be ranked.",
        "provisional": "provisional",
        "all_contests": "All contests",
        "contest_state": "State",
        "portal_baseline_title": "Your baseline period",
        "portal_baseline_coverage": "Days with data",
        "portal_baseline_value": "Your baseline",
        "portal_baseline_pending": "not enough data yet",
        "portal_baseline_help": (
            "To be ranked you need data on at least {cov} of the days of the baseline period ({baseline}). "
            "Upload meter readings or an export for it."
        ),
        "portal_final_upload": (
            "The result is final. Data you upload now is stored but does not change the final result."
        ),
        "certificate": "Download your certificate (PDF)",
        "kwh_per_day": "kWh/day",
    },
}
for _lang, _texts in SEASON_TEXTS.items():
    TEXTS[_lang].update(_texts)

#: The staff's words for a contest's season (admin page).
ADMIN_SEASON_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "admin_status_draft": "Entwurf (nur für die Verwaltung sichtbar)",
        "admin_status_announced": "angekündigt",
        "admin_status_running": "läuft",
        "admin_status_closing": "vorläufig (Nachreichfrist)",
        "admin_status_final": "Endergebnis",
        "admin_status_archived": "archiviert",
        "admin_season": "Ablauf des Wettbewerbs",
        "admin_season_help": "Die Uhr schaltet von „angekündigt“ über „läuft“ und „vorläufig“ bis zum Endergebnis am Ende der Nachreichfrist. Sie können einen Entwurf ankündigen, früher abschließen, ein Endergebnis mit Begründung wieder öffnen und archivieren. Jede Änderung wird protokolliert.",
        "admin_grace_end": "Nachreichfrist bis",
        "admin_last_published": "Letzte Veröffentlichung",
        "admin_last_error": "Letzter Fehler",
        "admin_never": "noch nie",
        "admin_season_reason": "Begründung (für das Protokoll; zum Wiederöffnen nötig)",
        "admin_announce": "Ankündigen",
        "admin_close": "Jetzt abschließen (Endergebnis)",
        "admin_close_confirm": "Das Ergebnis jetzt endgültig feststellen? Später eintreffende Daten ändern es dann nicht mehr.",
        "admin_reopen": "Wieder öffnen",
        "admin_archive": "Archivieren",
        "admin_season_done": "Geändert: {state}.",
        "admin_events": "Protokoll",
        "admin_no_events": "Noch keine Änderungen.",
        "admin_event_change": "Änderung",
        "admin_actor": "durch",
        "admin_late_imports": "Nach dem Endergebnis eingegangene Daten (gespeichert, nicht gewertet)",
        "admin_no_late_imports": "Keine.",
        "admin_rows": "Werte",
        "admin_show_meters": "Zähler",
        "admin_actor_clock": "automatisch (Zeitplan)",
        "admin_grace_over": "Nachreichfrist abgelaufen",
        "admin_meters_title": "Zähler und Geräte: {name}",
        "admin_meter_kind": "Energieträger · Art",
        "admin_devices": "Gerät (Kanal)",
        "admin_series": "Zählwerke (Reihen)",
        "admin_display": "Ablesung/Upload",
        "admin_since": "ab",
        "admin_last_message": "Letzte MQTT-Nachricht",
        "admin_no_message": "noch keine",
        "admin_rejected_as": "abgelehnt",
        "admin_stored": "gespeichert",
        "admin_rejected_24h": "Abgelehnt (24 h)",
        "admin_no_meters": "Keine Zähler.",
        "admin_close_panel": "Schließen",
        "admin_unbound_devices": "Geräte ohne Zuordnung (letzte 24 Stunden)",
        "admin_unbound_help": "Diese Geräte haben gesendet, sind aber keinem Zähler zugeordnet. Ihre Nachrichten werden mit Grund aufbewahrt; nach der Zuordnung (contest meter bind oder API) zählen neue Nachrichten.",
        "admin_device": "Gerät",
        "admin_channel": "Kanal",
        "admin_topic": "Topic",
        "admin_value": "Wert",
        "admin_no_unbound": "Keine.",
    },
    "en": {
        "admin_status_draft": "draft (staff only)",
        "admin_status_announced": "announced",
        "admin_status_running": "running",
        "admin_status_closing": "provisional (grace period)",
        "admin_status_final": "final result",
        "admin_status_archived": "archived",
        "admin_season": "Season",
        "admin_season_help": "The clock moves a contest from announced to running, to provisional and to its final result at the end of the grace period. You can announce a draft, close early, reopen a final result with a reason, and archive it. Every change is logged.",
        "admin_grace_end": "Late data until",
        "admin_last_published": "Last publication",
        "admin_last_error": "Last error",
        "admin_never": "never",
        "admin_season_reason": "Reason (for the log; required to reopen)",
        "admin_announce": "Announce",
        "admin_close": "Close now (final result)",
        "admin_close_confirm": "Declare the result final now? Data arriving later will not change it.",
        "admin_reopen": "Reopen",
        "admin_archive": "Archive",
        "admin_season_done": "Changed: {state}.",
        "admin_events": "Log",
        "admin_no_events": "No changes yet.",
        "admin_event_change": "Change",
        "admin_actor": "by",
        "admin_late_imports": "Data received after the final result (stored, not counted)",
        "admin_no_late_imports": "None.",
        "admin_rows": "values",
        "admin_show_meters": "Meters",
        "admin_actor_clock": "automatic (schedule)",
        "admin_grace_over": "grace period over",
        "admin_meters_title": "Meters and devices: {name}",
        "admin_meter_kind": "Carrier · kind",
        "admin_devices": "Device (channel)",
        "admin_series": "Register series",
        "admin_display": "reading/upload",
        "admin_since": "from",
        "admin_last_message": "Last MQTT message",
        "admin_no_message": "none yet",
        "admin_rejected_as": "rejected",
        "admin_stored": "stored",
        "admin_rejected_24h": "Rejected (24 h)",
        "admin_no_meters": "No meters.",
        "admin_close_panel": "Close",
        "admin_unbound_devices": "Devices without a binding (last 24 hours)",
        "admin_unbound_help": "These devices published but are bound to no meter. Their messages are kept with the reason; once bound (contest meter bind or the API), new messages count.",
        "admin_device": "Device",
        "admin_channel": "Channel",
        "admin_topic": "Topic",
        "admin_value": "Value",
        "admin_no_unbound": "None.",
    },
}
for _lang, _texts in ADMIN_SEASON_TEXTS.items():
    ADMIN_TEXTS[_lang].update(_texts)


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


def _group(number: str, sep: str) -> str:
    head, _, tail = number.partition(".")
    sign = "-" if head.startswith("-") else ""
    head = head.lstrip("-")
    groups: list[str] = []
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
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # -0.0004 shows as 0,0, not as -0,0
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
