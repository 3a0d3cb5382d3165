"""The public leaderboard page in a real headless Chromium: populated, German, readable on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, write_contest_files
from tests.servers import live_server
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    db = Database(f"sqlite:///{tmp_path / 'page.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    with live_server(create_app(db, clock=lambda: AS_OF)) as url:
        yield url
    db.dispose()


def test_leaderboard_page_renders_tables_on_a_phone(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    try:
        page.goto(f"{base_url}/", wait_until="load")  # the index lists every contest with its state
        page.click("#contests a")
        page.wait_for_load_state("load")
        assert page.url.endswith("/contests/test-2026?lang=de")
        assert page.locator("h1").inner_text() == "Testwettbewerb 2026"
        assert page.locator("html").get_attribute("lang") == "de"
        team_rows = page.locator("#teams tbody tr")
        assert team_rows.count() == 1
        assert "Nordviertel" in team_rows.first.inner_text()
        rows = [r.inner_text() for r in page.locator("#households tbody tr").all()]
        assert rows[0].startswith("1") and "Amsel" in rows[0] and "20,0\u00a0%" in rows[0]
        assert any("Dachs" in r and "zu wenig Daten" in r for r in rows)
        # Readable on a phone: the page itself never scrolls sideways (wide tables scroll in their box).
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        font_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('td')).fontSize)")
        assert font_px >= 14
        page.click("header .lang")
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Leaderboard" in page.title() or page.locator("#households").is_visible()
    finally:
        context.close()


def test_household_uploads_a_file_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """Sign in with the code, pick a file, read the preview, confirm, read the report."""
    from contest.households import HouseholdService
    from contest.settings import WebSettings
    from tests.integration.contest_fixture import german_register

    db = Database(f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    with db.session() as session:
        households = HouseholdService(session)
        _, code = households.issue_access_code(households.find("test-2026", "Amsel").id)
    upload = tmp_path / "Zählerstände Januar.csv"
    lines = german_register(10.0, 8.0).splitlines()
    upload.write_text("\n".join([*lines[:5], "05.01.2026 12:00;abc", *lines[5:]]) + "\n", encoding="cp1252")
    web = WebSettings(secret_key="browser-test", upload_dir=str(tmp_path / "uploads"))
    with live_server(create_app(db, web, clock=lambda: AS_OF, importer=CsvImporter(db))) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
        page = context.new_page()
        try:
            page.goto(f"{url}/portal/")
            page.fill("#code", code)
            page.click("button[type=submit]")
            page.wait_for_selector("#file")
            assert "Amsel" in page.locator("h1").inner_text()
            page.select_option("#meter", "A")
            page.set_input_files("#file", str(upload))
            page.click("text=Datei prüfen")
            page.wait_for_selector("#preview")
            assert page.locator("#rows-usable").inner_text() == "21"
            assert page.locator("#rows-rejected").inner_text() == "1"
            assert page.locator("#total-kwh").inner_text() == "180,000 kWh"
            assert (
                "cp1252" in page.locator("#preview").inner_text()
                or "1252" in page.locator("#preview").inner_text()
            )
            page.click("#confirm")
            page.wait_for_selector("#report")
            assert page.locator("#stored").inner_text() == "21"
            assert page.locator("#rejected").inner_text() == "1"
            assert (
                "Zeile" in page.locator("#rejections").inner_text()
                or "6" in page.locator("#rejections").inner_text()
            )
            with page.expect_download() as info:
                page.click("#rejected-csv")
            content = Path(info.value.path()).read_text(encoding="utf-8-sig")
            assert "abc" in content and content.splitlines()[1].startswith("6;")
            # Back on its page: its progress against its baseline, as a chart (no JavaScript needed).
            page.goto(f"{url}/portal/")
            assert page.locator("#progress svg.chart rect").count() >= 10  # competition days so far
            page.wait_for_timeout(500)
            page.goto(f"{url}/portal/")  # the background publication after the import is in
            assert page.locator("#my-rank").inner_text() == "1"
            assert "20,0\u00a0%" in page.locator("#my-savings").inner_text()
        finally:
            context.close()
    db.dispose()


def test_page_updates_live_when_a_snapshot_is_published(browser: Any, tmp_path: Path) -> None:
    """An open page shows the new leaderboard without a reload (server-sent events)."""
    from contest.publishing import PublishingService

    db = Database(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABC":  # D and E come later
        CsvImporter(db).import_file(files[meter], meter)
    publishing = PublishingService(db, clock=lambda: AS_OF)
    with live_server(create_app(db, clock=lambda: AS_OF, publishing=publishing)) as url:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        try:
            page.goto(f"{url}/contests/test-2026")
            assert page.locator("html").get_attribute("lang") == "en"  # the browser prefers English
            elster = page.locator("#households tr", has_text="Elster")
            assert "not enough data" in elster.inner_text()  # no readings yet
            page.evaluate("window.__marker = 'still the same page'")
            for meter in "DE":
                CsvImporter(db).import_file(files[meter], meter)
            publishing.publish("test-2026", reason="import")
            # Elster's row changes from "not enough data" to a rank without a reload.
            page.wait_for_function(
                """() => [...document.querySelectorAll('#households tr')].some(
                       r => r.innerText.includes('Elster') && !r.innerText.includes('not enough data'))""",
                timeout=15000,
            )
            assert page.evaluate("window.__marker") == "still the same page"  # no reload happened
            widget = context.new_page()
            widget.goto(f"{url}/contests/test-2026/widget")
            assert "Nordviertel" in widget.locator("#widget-teams").inner_text()
        finally:
            context.close()
    publishing.close()
    db.dispose()
