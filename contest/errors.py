"""The project's one error tree. Only ``web/`` turns these into HTTP statuses.

An error carries a stable ``key`` and its ``params``; the web layer shows the key's sentence from its
catalog in the visitor's language (``web/messages.py``). The ``message`` is English, for logs, the CLI
and API clients; it is never the only place a visitor's sentence lives.
"""

from __future__ import annotations

from collections.abc import Mapping


class ContestError(Exception):
    """Base of every error the project raises on purpose."""

    key: str = "contest.error"

    def __init__(
        self, message: str, *, key: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if key is not None:
            self.key = key
        #: the values the key's sentence names, e.g. ``{"meter": "M1"}`` (plain values: str, int, float, date)
        self.params: dict[str, object] = dict(params or {})


class NotFoundError(ContestError, LookupError):
    """A named thing (contest, meter, household) does not exist."""

    key = "contest.not_found"


class ContestNotFound(NotFoundError):
    key = "contest.contest_not_found"


class MeterNotFound(NotFoundError):
    key = "contest.meter_not_found"


class HouseholdNotFound(NotFoundError):
    key = "contest.household_not_found"


class ConfigError(ContestError, ValueError):
    """A contest description (TOML) or a setting is invalid."""

    key = "contest.config_invalid"


class IngestError(ContestError, ValueError):
    """Input (a CSV file, an MQTT payload) cannot be used at all.

    Single bad rows are not errors: they become :class:`contest.readings.Rejection` records.
    """

    key = "ingest.invalid_input"


class CsvFormatError(IngestError):
    """A CSV file as a whole cannot be read (no energy column, not text, empty, ...)."""

    key = "ingest.csv_format"


class PermissionDenied(ContestError, PermissionError):
    """The caller may not do this (upload to another household's meter, wrong access code)."""

    key = "contest.permission_denied"


class NotAuthenticated(PermissionDenied):
    """No valid credentials came with the request (a missing, wrong or revoked staff API token)."""

    key = "auth.not_authenticated"


class AlreadyExists(ConfigError):
    """A name or id that must be unique is taken (a pseudonym, a team name, a meter id)."""

    key = "contest.already_exists"


class PayloadError(IngestError):
    """A device message (MQTT) no parser accepts; the worker keeps it as a rejected record."""

    key = "mqtt.payload_rejected"
