"""The one settings object, read from the environment once, a section per concern.

Contest rules (baseline method, coverage thresholds) are data on the contest, not settings.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from contest.errors import ConfigError


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from exc


@dataclass(frozen=True, slots=True)
class DbSettings:
    """Where data is stored.

    url: SQLAlchemy URL. ``CONTEST_DB_URL`` (e.g. ``postgresql+psycopg://user:pw@host/db``) wins;
        otherwise a SQLite file at ``CONTEST_DB_PATH`` (default ``./var/contest.sqlite3``).
    """

    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The HTTP server.

    host: interface to listen on (``CONTEST_WEB_HOST``, default 127.0.0.1)
    port: TCP port (``CONTEST_WEB_PORT``, default 8000)
    secret_key: signs session cookies (``CONTEST_SECRET_KEY``); a random one per process if unset,
        which logs everybody out on restart — set it in production.
    max_upload_bytes: largest accepted upload [bytes] (``CONTEST_MAX_UPLOAD_BYTES``, default 20 MB)
    upload_dir: where uploads wait for the household's confirmation (``CONTEST_UPLOAD_DIR``, default
        ``./var/uploads``)
    """

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_dir: str = "var/uploads"


@dataclass(frozen=True, slots=True)
class Settings:
    db: DbSettings
    web: WebSettings


def default_sqlite_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def load_settings() -> Settings:
    """Read the settings from the environment (call once, at start)."""
    url = os.environ.get("CONTEST_DB_URL")
    if not url:
        url = default_sqlite_url(_env("CONTEST_DB_PATH", "var/contest.sqlite3"))
    web = WebSettings(
        host=_env("CONTEST_WEB_HOST", "127.0.0.1"),
        port=_env_int("CONTEST_WEB_PORT", 8000),
        secret_key=os.environ.get("CONTEST_SECRET_KEY") or secrets.token_hex(32),
        max_upload_bytes=_env_int("CONTEST_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
        upload_dir=_env("CONTEST_UPLOAD_DIR", "var/uploads"),
    )
    return Settings(db=DbSettings(url=url), web=web)
