"""Fixtures shared by all tests: data files, databases (SQLite and a real PostgreSQL), browser."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A real PostgreSQL cluster for the whole run, or the one given in CONTEST_TEST_PG_URL."""
    given = os.environ.get("CONTEST_TEST_PG_URL")
    if given:
        yield given
        return
    from tests.servers import postgres_cluster

    with postgres_cluster() as url:
        yield url


def _fresh_pg_database(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"contest_test_{os.getpid()}_{next(_db_counter)}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contest.sqlite3'}"
    return _fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[object]:
    """A migrated :class:`contest.db.Database` on SQLite or PostgreSQL."""
    from contest.db import Database

    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"):
        if Path(candidate).exists():
            return candidate
    raise RuntimeError(
        "Chromium not found: install Debian's chromium package (the README's test command does)"
    )


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (its own browser download cannot work here).

    Playwright gives every launch a fresh, empty profile; tests open their own contexts (viewport,
    locale, cookies) with ``browser.new_context(...)``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()
