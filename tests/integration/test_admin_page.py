"""The staff's admin page in a real headless Chromium: sign in with the API token, see the households,
publish now and see the new snapshot listed; the page works only through the admin JSON API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.staff import StaffService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, write_contest_files
from tests.servers import live_server
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str, Database]]:
    db = Database(f"sqlite:///{tmp_path / 'admin-page.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    with db.session() as session:
        token = StaffService(session).create_token("stadt-team")
    with live_server(create_app(db, clock=lambda: AS_OF)) as url:
        yield url, token, db
    db.dispose()


def test_staff_sign_in_see_households_publish_and_see_the_new_snapshot(
    browser: Any, site: tuple[str, str, Database]
) -> None:
    url, token, db = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(f"{url}/admin")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("h1").inner_text() == "Verwaltung"
        assert page.locator("#workspace").is_hidden()

        # A wrong token is refused with a message; nothing is shown.
        page.fill("#token", "cst_falsch")
        page.click("#token-form button[type=submit]")
        page.wait_for_selector("#error:not([hidden])")
        assert "ungültig" in page.locator("#error").inner_text()
        assert page.locator("#workspace").is_hidden()
        problems.clear()  # the browser logs the refused request (401) as a console error

        page.fill("#token", token)
        page.click("#token-form button[type=submit]")
        page.wait_for_selector("#contests tbody tr")
        # The token lives in this tab's sessionStorage only: no cookie, no localStorage.
        assert page.evaluate("sessionStorage.getItem('contest-admin-token')") == token
        assert page.evaluate("localStorage.length") == 0
        assert all(token not in c["value"] for c in context.cookies())
        contest_row = page.locator("#contests tbody tr").first
        assert "test-2026" in contest_row.inner_text() and "läuft" in contest_row.inner_text()

        contest_row.get_by_role("button", name="Öffnen").click()
        page.wait_for_selector("#households tbody tr")
        rows = page.locator("#households tbody tr")
        assert rows.count() == 5
        amsel = page.locator("#households tbody tr", has_text="Amsel")
        assert "Nordviertel" in amsel.inner_text() and "20.01.2026" in amsel.inner_text()
        assert page.locator("#households th[scope=col]").count() == 9
        assert page.locator("#no-snapshots").is_visible()
        assert page.locator("#snapshots tbody tr").count() == 0

        page.click("#publish")
        page.wait_for_selector("#snapshots tbody tr")
        snapshots = page.locator("#snapshots tbody tr")
        assert snapshots.count() == 1 and "manuell" in snapshots.first.inner_text()
        expect(page.locator("#status")).to_contain_text("veröffentlicht")
        page.click("#publish")
        expect(page.locator("#snapshots tbody tr")).to_have_count(2)  # newest first
        assert "manuell" in page.locator("#snapshots tbody tr").first.inner_text()

        # Edit a household: list it publicly, in no team.
        chamaeleon = page.locator("#households tbody tr", has_text="Chamäleon")
        assert "nein" in chamaeleon.inner_text()
        chamaeleon.get_by_role("button", name="Bearbeiten: Chamäleon").click()
        page.select_option("#edit-team", "")
        page.fill("#edit-persons", "2")
        page.check("#edit-public")
        page.click("#edit-form button[type=submit]")
        page.wait_for_selector("#edit-form", state="hidden")
        chamaeleon = page.locator("#households tbody tr", has_text="Chamäleon")
        expect(chamaeleon).to_contain_text("(kein Team)")
        assert "ja" in chamaeleon.inner_text()

        # A new access code, after a confirmation, shown once; it signs the household in.
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#households tbody tr", has_text="Biene").get_by_role(
            "button", name="Neuer Zugangscode: Biene"
        ).click()
        page.wait_for_selector("#new-code:not([hidden])")
        code = page.locator("#new-code-value").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code)
        with db.session() as session:
            assert HouseholdService(session).authenticate(code).pseudonym == "Biene"

        # Still signed in after a reload (same tab); English on request.
        page.goto(f"{url}/admin?lang=en")
        assert page.locator("h1").inner_text() == "Administration"
        expect(page.locator("#contests tbody tr").first).to_contain_text("running")
        page.click("#sign-out")
        assert page.locator("#signin").is_visible()
        assert page.evaluate("sessionStorage.getItem('contest-admin-token')") is None
        assert problems == []
    finally:
        context.close()
