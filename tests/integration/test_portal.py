"""The household portal over real HTTP: sign in with the access code, upload, preview, confirm, report;
limits with clear messages; a household can only upload to its own meters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.domain import MeterInfo
from contest.households import HouseholdService
from contest.settings import WebSettings
from ingest.importer import CsvImporter
from tests import stored as readback
from tests.integration.contest_fixture import AS_OF, german_register, write_contest_files
from tests.servers import live_server
from web.app import create_app

MAX_UPLOAD = 200_000


class Portal:
    """A browser-like client: keeps cookies and sends the CSRF token the way the forms do."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, follow_redirects=True)
        self.client.get("/portal/")

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        token = self.client.cookies.get("csrftoken") or ""
        return self.client.post(url, headers={"x-csrftoken": token}, **kwargs)  # type: ignore[arg-type]

    def login(self, code: str) -> httpx.Response:
        return self.post("/portal/login", data={"code": code})

    def upload(self, meter: str, name: str, content: bytes) -> httpx.Response:
        return self.post("/portal/upload", data={"meter": meter}, files={"file": (name, content, "text/csv")})


@pytest.fixture
def portal_env(db: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    with db.session() as session:
        households = HouseholdService(session)
        _, code_a = households.issue_access_code(households.find("test-2026", "Amsel").id)
        _, code_x = households.add(
            "test-2026", "Xenia", persons=1, meters=[MeterInfo("X-GAS", "gas", "register")]
        )
    web = WebSettings(secret_key="test-secret", max_upload_bytes=MAX_UPLOAD, upload_dir=str(tmp_path / "up"))
    app = create_app(db, web, clock=lambda: AS_OF, importer=CsvImporter(db))
    with live_server(app) as url:
        yield url, {"A": code_a, "X": code_x}


def test_sign_in_needs_the_right_code(portal_env: tuple[str, dict[str, str]]) -> None:
    url, codes = portal_env
    p = Portal(url)
    wrong = p.login("AAAA-BBBB-CCCC-DDDD")
    assert wrong.status_code == 403 and "nicht gültig" in wrong.text
    assert p.client.cookies.get("portal_session") is None
    # Codes are accepted the way people type them: lower case, without dashes.
    ok = p.login(codes["A"].lower().replace("-", " "))
    assert ok.status_code == 200 and "Amsel" in ok.text and "Zählerdaten hochladen" in ok.text
    title = ok.text.split("<title>")[1].split("</title>")[0]
    assert title == "Haushaltsportal – Amsel"  # nothing but the title in the title
    assert ok.text.count('id="my-data"') == 1


def test_upload_preview_confirm_report_and_reupload(
    portal_env: tuple[str, dict[str, str]], db: Database
) -> None:
    url, codes = portal_env
    p = Portal(url)
    p.login(codes["A"])
    lines = german_register(10.0, 8.0).splitlines()
    bad = "\n".join([*lines[:3], "03.01.2026 12:00;kaputt", *lines[3:]]) + "\n"
    preview = p.upload("A", "zaehler.csv", bad.encode("utf-8"))
    assert preview.status_code == 200, preview.text
    html = preview.text
    assert "Vorschau" in html and 'id="rows-usable">21<' in html and 'id="rows-rejected">1<' in html
    # 10 days x 10 kWh + 10 days x 8 kWh = 180 kWh between the first and the last reading.
    assert "180,000 kWh" in html
    assert "Zeile 4" in html and "kaputt" in html
    assert readback.count_readings(db, "A") == 0  # a preview stores nothing
    token = html.split("/portal/upload/")[1].split("/confirm")[0]
    report = p.post(f"/portal/upload/{token}/confirm")
    assert report.status_code == 200 and "Import abgeschlossen" in report.text
    assert 'id="stored">21<' in report.text and 'id="rejected">1<' in report.text
    assert readback.count_readings(db, "A") == 21
    batch = report.url.path.rsplit("/", 1)[1]
    download = p.client.get(f"/portal/imports/{batch}/rejected.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = download.content.decode("utf-8-sig").splitlines()
    assert rows[1].startswith("4;") and "kaputt" in rows[1]
    # The token was used up: confirming twice does not import twice.
    assert p.post(f"/portal/upload/{token}/confirm").status_code == 403
    # Uploading the same file again stores nothing twice.
    again = p.upload("A", "zaehler.csv", bad.encode("utf-8")).text
    token = again.split("/portal/upload/")[1].split("/confirm")[0]
    report = p.post(f"/portal/upload/{token}/confirm")
    assert 'id="stored">0<' in report.text and 'id="duplicates">21<' in report.text
    assert readback.count_readings(db, "A") == 21
    # Both imports are listed on the household's page.
    home = p.client.get("/portal/").text
    assert home.count("zaehler.csv") == 2


def test_a_household_can_only_upload_to_its_own_meters(portal_env: tuple[str, dict[str, str]]) -> None:
    url, codes = portal_env
    p = Portal(url)
    p.login(codes["X"])
    r = p.upload("A", "fremd.csv", german_register(10.0, 8.0).encode())
    assert r.status_code == 403 and "gehört nicht zu diesem Haushalt" in r.text
    # Nor read another household's import report.
    assert p.client.get("/portal/imports/1").status_code == 403


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Die Datei ist leer"),
        (b"PK\x03\x04\x14\x00\x06\x00binary-xlsx" * 10, "keine CSV-Datei"),
        (b"Datum;Z\xc3\xa4hlerstand (kWh)\n" + b"01.01.2026 00:00;1,0\n" * 20_000, "größer als"),
        (b"Datum;Z\xc3\xa4hlerstand (kWh)\n01.01.2020 00:00;1,0\n02.01.2020 00:00;2,0\n", "Wettbewerb"),
        (b"Datum;Temperatur (\xc2\xb0C)\n01.01.2026 00:00;1,0\n", ""),
    ],
    ids=["empty", "binary", "too-large", "outside-contest", "no-energy-column"],
)
def test_unusable_files_get_a_clear_message(
    portal_env: tuple[str, dict[str, str]], content: bytes, message: str
) -> None:
    url, codes = portal_env
    p = Portal(url)
    p.login(codes["A"])
    r = p.upload("A", "datei.csv", content)
    assert r.status_code in (413, 422), r.text
    assert 'role="alert"' in r.text or r.status_code == 413
    assert message in r.text
    assert "Traceback" not in r.text


def test_signed_out_visitors_are_sent_to_the_login(portal_env: tuple[str, dict[str, str]]) -> None:
    url, _ = portal_env
    r = httpx.get(f"{url}/portal/imports/1", follow_redirects=True)
    assert r.status_code == 200 and "Zugangscode" in r.text
    forged = httpx.get(f"{url}/portal/", cookies={"portal_session": "eyJoaWQiOjF9.forged.sig"})
    assert "Zugangscode" in forged.text and "Amsel" not in forged.text


def test_a_household_downloads_its_data_and_deletes_its_account(
    portal_env: tuple[str, dict[str, str]], db: Database
) -> None:
    url, codes = portal_env
    p = Portal(url)
    p.login(codes["A"])
    preview = p.upload("A", "zaehler.csv", german_register(10.0, 8.0).encode("utf-8")).text
    token = preview.split("/portal/upload/")[1].split("/confirm")[0]
    p.post(f"/portal/upload/{token}/confirm")
    data = p.client.get("/portal/data.json").json()
    assert data["household"]["pseudonym"] == "Amsel"
    assert len(data["readings"]) == 21 and data["readings"][0]["meter"] == "A"
    assert len(data["daily_consumption"]) == 20
    readings_csv = p.client.get("/portal/data.csv").content.decode("utf-8-sig").splitlines()
    assert readings_csv[0].startswith("meter;ts_utc") and len(readings_csv) == 22
    # Deleting needs the confirmation word.
    refused = p.post("/portal/delete", data={"confirm": "ja"})
    assert refused.status_code == 422 and "LÖSCHEN" in refused.text
    done = p.post("/portal/delete", data={"confirm": "löschen"})
    assert done.status_code == 200 and "gelöscht" in done.text
    assert p.client.get("/portal/data.json", follow_redirects=False).status_code in (302, 303)  # signed out
    assert readback.count_readings(db, "A") == 0
    import pytest as _pytest

    from contest.errors import PermissionDenied

    with _pytest.raises(PermissionDenied), db.session() as session:
        HouseholdService(session).authenticate(codes["A"])
    # It is gone from the leaderboard that is published next.
    from contest.publishing import PublishingService

    board = PublishingService(db, clock=lambda: AS_OF).score("test-2026", AS_OF, public_only=False)
    assert "Amsel" not in {h.pseudonym for h in board.households}


def test_a_household_changes_its_pseudonym_and_public_listing(
    portal_env: tuple[str, dict[str, str]], db: Database
) -> None:
    url, codes = portal_env
    p = Portal(url)
    p.login(codes["A"])
    # A taken pseudonym is a conflict (409), as in the admin API.
    taken = p.post("/portal/settings", data={"pseudonym": "Biene", "public": "on"})
    assert taken.status_code == 409 and "schon vergeben" in taken.text
    saved = p.post("/portal/settings", data={"pseudonym": "Amsel im Glück"})  # checkbox off: private
    assert saved.status_code == 200 and "Gespeichert" in saved.text
    with db.session() as session:
        info = HouseholdService(session).authenticate(codes["A"])
    assert info.pseudonym == "Amsel im Glück" and not info.public_listing
