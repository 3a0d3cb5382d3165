"""The staff's admin API and the security rules households and the city rely on: tokens are required
and stored hashed, households cannot reach admin endpoints or each other's data, wrong access codes are
rate-limited (a correct one always passes), session cookies are HttpOnly and SameSite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.settings import WebSettings
from contest.staff import StaffService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, write_contest_files
from tests.servers import live_server
from web.app import create_app


@pytest.fixture
def env(db: Database, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "AB":
        CsvImporter(db).import_file(files[meter], meter)
    with db.session() as session:
        token = StaffService(session).create_token("stadt-team")
    with db.session() as session:
        households = HouseholdService(session)
        _, code_a = households.issue_access_code(households.find("test-2026", "Amsel").id)
    web = WebSettings(secret_key="admin-test", upload_dir=str(tmp_path / "up"))
    with live_server(create_app(db, web, clock=lambda: AS_OF, importer=CsvImporter(db))) as url:
        yield url, token, {"A": code_a}


def test_admin_api_needs_a_valid_staff_token(env: tuple[str, str, dict[str, str]], db: Database) -> None:
    url, token, _ = env
    # 401 (not authenticated) with the scheme to use, for a missing and for a wrong token
    missing = httpx.get(f"{url}/api/admin/contests")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert (
        httpx.get(f"{url}/api/admin/contests", headers={"Authorization": "Bearer cst_wrong"}).status_code
        == 401
    )
    ok = httpx.get(f"{url}/api/admin/contests", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()[0]["slug"] == "test-2026"
    with db.session() as session:  # only the hash is stored
        from sqlalchemy import text

        stored = session.execute(text("SELECT token_hash FROM staff_token")).scalar_one()
    assert token not in stored and stored.startswith("sha256:")
    with db.session() as session:
        StaffService(session).revoke("stadt-team")
    assert (
        httpx.get(f"{url}/api/admin/contests", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_staff_create_households_bind_devices_publish_and_export(
    env: tuple[str, str, dict[str, str]], db: Database
) -> None:
    url, token, _ = env
    h = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{url}/api/admin/contests/test-2026/households",
        headers=h,
        json={
            "pseudonym": "Kranich",
            "persons": 3,
            "team": "Nordviertel",
            "public": True,
            "meters": [{"id": "K-1"}],
        },
    )
    assert created.status_code == 201, created.text
    code = created.json()["access_code"]
    with db.session() as session:
        assert HouseholdService(session).authenticate(code).pseudonym == "Kranich"
    bound = httpx.post(f"{url}/api/admin/meters/K-1/bindings", headers=h, json={"device": "tasmota_K1"})
    assert bound.status_code == 201 and bound.json()["meter"] == "K-1"
    snap = httpx.post(f"{url}/api/admin/contests/test-2026/publish", headers=h)
    assert snap.status_code == 201 and snap.json()["reason"] == "manual"
    csv_text = httpx.get(f"{url}/api/admin/contests/test-2026/results.csv", headers=h).content.decode(
        "utf-8-sig"
    )
    assert csv_text.splitlines()[0].startswith("rank;pseudonym") and "Amsel" in csv_text
    rejected = httpx.get(f"{url}/api/admin/rejected", headers=h)
    assert rejected.status_code == 200 and isinstance(rejected.json(), list)
    bad = httpx.post(f"{url}/api/admin/contests", headers=h, json={"contest": {"slug": "x"}})
    assert bad.status_code == 400 and "contest.name is required" in bad.json()["detail"]
    spec = httpx.get(f"{url}/schema/openapi.json").json()
    assert "/api/admin/contests/{slug}/households" in spec["paths"]
    assert "StaffToken" in json.dumps(spec["components"])


def test_households_cannot_reach_admin_and_wrong_codes_are_rate_limited(
    env: tuple[str, str, dict[str, str]],
) -> None:
    url, _, codes = env
    client = httpx.Client(base_url=url)
    client.get("/portal/")
    csrf = {"x-csrftoken": client.cookies.get("csrftoken") or ""}
    signed_in = client.post("/portal/login", data={"code": codes["A"]}, headers=csrf)
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    # A signed-in household's cookie is no staff token.
    assert client.get("/api/admin/contests").status_code == 401
    other = httpx.Client(base_url=url)
    other.get("/portal/")
    csrf = {"x-csrftoken": other.cookies.get("csrftoken") or ""}
    statuses = [
        other.post("/portal/login", data={"code": f"WRNG-CODE-0000-000{i}"}, headers=csrf).status_code
        for i in range(6)
    ]
    assert statuses[:5] == [403] * 5 and statuses[5] == 429
    # The right code still gets in: people behind one address must not lock each other out
    # (guessing stays hopeless: ~79 bits per code); further wrong codes stay throttled.
    assert other.post("/portal/login", data={"code": codes["A"]}, headers=csrf).status_code in (302, 303)
    assert other.post("/portal/login", data={"code": "WRNG-CODE-0000-0009"}, headers=csrf).status_code == 429
