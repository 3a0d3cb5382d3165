"""Issue 11 replayed over real HTTP and the real databases: sessions end with sign-out, a new code and
deletion and never open another household; the page cache stays bounded; every CSV is safe to open in
a spreadsheet; every response carries security headers; bad input gets a clear 4xx, never a 500; a
correct code passes a throttled address; UTF-16 uploads; slow clients are cut off."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.domain import MeterInfo
from contest.households import HouseholdService
from contest.settings import WebSettings
from contest.staff import StaffService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, german_register, write_contest_files
from tests.integration.test_portal import Portal
from tests.servers import free_port, live_server
from web.app import create_app

WIDGET_FRAMERS = "https://www.stadt.example"


class Env:
    def __init__(
        self, url: str, app: Any, db: Database, token: str, codes: dict[str, str], importer: FlakyImporter
    ) -> None:
        self.url, self.app, self.db, self.token, self.codes = url, app, db, token, codes
        self.importer = importer

    @property
    def staff(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


class FlakyImporter:
    """The real importer, except that the next import fails unexpectedly (a database hiccup)."""

    def __init__(self, db: Database) -> None:
        self.real = CsvImporter(db)
        self.fail_next = False

    def preview(self, *args: Any, **kwargs: Any) -> Any:
        return self.real.preview(*args, **kwargs)

    def import_bytes(self, *args: Any, **kwargs: Any) -> Any:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("connection to the database lost")
        return self.real.import_bytes(*args, **kwargs)


@pytest.fixture
def env(db: Database, tmp_path: Path) -> Iterator[Env]:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "AB":
        CsvImporter(db).import_file(files[meter], meter)
    with db.session() as session:
        households = HouseholdService(session)
        _, code_a = households.issue_access_code(households.find("test-2026", "Amsel").id)
        _, code_x = households.add("test-2026", "Xenia", meters=[MeterInfo("X-1", "electricity", "register")])
    with db.session() as session:
        token = StaffService(session).create_token("stadt-team")
    web = WebSettings(
        secret_key="hardening-test-key-0123456789abcdef",
        upload_dir=str(tmp_path / "up"),
        widget_frame_ancestors=WIDGET_FRAMERS,
    )
    importer = FlakyImporter(db)
    app = create_app(db, web, clock=lambda: AS_OF, importer=importer)  # type: ignore[arg-type]
    with live_server(app) as url:
        yield Env(url, app, db, token, {"A": code_a, "X": code_x}, importer)


def _signed_in(url: str, cookie: str) -> str:
    return httpx.get(f"{url}/portal/", cookies={"portal_session": cookie}, follow_redirects=True).text


# --- sessions ----------------------------------------------------------------------------------------
def test_a_deleted_households_cookie_never_opens_the_next_household(env: Env) -> None:
    p = Portal(env.url)
    p.login(env.codes["X"])
    cookie = p.client.cookies["portal_session"]
    with env.db.session() as session:
        old_id = HouseholdService(session).find("test-2026", "Xenia").id
    assert "Xenia" in _signed_in(env.url, cookie)
    p.post("/portal/delete", data={"confirm": "LÖSCHEN"})
    with env.db.session() as session:
        info, _ = HouseholdService(session).add("test-2026", "Yvonne")
    if env.db.url.startswith("sqlite"):
        assert info.id == old_id  # SQLite hands out the deleted row's id again: the case to defend
    page = _signed_in(env.url, cookie)
    assert "Yvonne" not in page and "Zugangscode" in page


def test_signing_out_ends_the_session_on_every_device(env: Env) -> None:
    phone, laptop = Portal(env.url), Portal(env.url)
    phone.login(env.codes["A"])
    laptop.login(env.codes["A"])
    phone_cookie = phone.client.cookies["portal_session"]
    assert "Amsel" in _signed_in(env.url, laptop.client.cookies["portal_session"])
    phone.post("/portal/logout")
    assert "Zugangscode" in _signed_in(env.url, phone_cookie)  # a copied cookie is dead too
    assert "Zugangscode" in laptop.client.get("/portal/").text
    again = laptop.login(env.codes["A"])  # signing in again works
    assert again.status_code == 200 and "Amsel" in again.text


def test_a_new_access_code_ends_existing_sessions(env: Env) -> None:
    p = Portal(env.url)
    p.login(env.codes["A"])
    assert "Amsel" in p.client.get("/portal/").text
    with env.db.session() as session:
        amsel = HouseholdService(session).find("test-2026", "Amsel").id
    r = httpx.post(f"{env.url}/api/admin/households/{amsel}/access-code", headers=env.staff)
    assert r.status_code in (200, 201), r.text
    assert "Zugangscode" in p.client.get("/portal/").text
    assert p.login(env.codes["A"]).status_code == 403  # the old code is gone as well


def test_a_correct_code_passes_an_address_throttled_by_other_peoples_typos(env: Env) -> None:
    townhall = Portal(env.url)  # everyone at the event comes from 127.0.0.1
    statuses = [townhall.login(f"WRNG-CODE-0000-000{i}").status_code for i in range(7)]
    assert statuses[:5] == [403] * 5 and statuses[5:] == [429, 429]
    assert townhall.login("WRNG-CODE-0000-0009").headers.get("retry-after")
    ok = Portal(env.url).login(env.codes["A"])
    assert ok.status_code == 200 and "Amsel" in ok.text
    assert townhall.login("WRNG-CODE-0000-0010").status_code == 429  # guessing stays throttled


# --- bounded page cache --------------------------------------------------------------------------------
def test_unique_query_strings_do_not_grow_the_page_cache(env: Env) -> None:
    store = env.app.response_cache_config.get_store_from_app(env.app)
    with httpx.Client(base_url=env.url) as client:
        first = client.get("/contests/test-2026", params={"lang": "de"})
        assert first.status_code == 200
        for i in range(150):
            params = {"lang": "de", f"x{i}": str(i), "page": str(i), "utm": "a" * 50}
            if i % 3 == 0:
                params["category"] = f"nonsense-{i}"  # unknown categories are served, never stored
            assert client.get("/contests/test-2026", params=params).status_code == 200
        client.get("/contests/no-such-contest", params={"q": "1"})
    assert len(store._store) <= 4, sorted(store._store)


# --- CSV files are safe in a spreadsheet ---------------------------------------------------------------
FORMULA = '=HYPERLINK("http://evil.example","Klick")'


def _cells(body: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_every_csv_the_app_writes_escapes_formulas(env: Env) -> None:
    p = Portal(env.url)
    p.login(env.codes["A"])
    assert p.post("/portal/settings", data={"pseudonym": FORMULA, "public": "on"}).status_code == 200
    # The staff results CSV
    httpx.post(f"{env.url}/api/admin/contests/test-2026/publish", headers=env.staff)
    results = httpx.get(f"{env.url}/api/admin/contests/test-2026/results.csv", headers=env.staff)
    assert results.status_code == 200
    pseudonyms = [row[1] for row in _cells(results.content)[1:]]
    assert "'" + FORMULA in pseudonyms and FORMULA not in pseudonyms
    # The rejected-rows CSV of an upload with a hostile row
    lines = german_register(10.0, 8.0).splitlines()
    bad = "\n".join([*lines[:3], "@SUM(1+1)*cmd|' /C calc'!A0;-2+3", *lines[3:]]) + "\n"
    preview = p.upload("A", "zaehler.csv", bad.encode("utf-8")).text
    token = preview.split("/portal/upload/")[1].split("/confirm")[0]
    report = p.post(f"/portal/upload/{token}/confirm")
    batch = report.url.path.rsplit("/", 1)[-1]
    rejected = _cells(p.client.get(f"/portal/imports/{batch}/rejected.csv").content)
    raws = [row[3] for row in rejected[1:]]
    assert raws and all(not r.lstrip().startswith(("=", "+", "-", "@")) for r in raws), raws
    # The household's own data CSV: every cell, numbers included, opens as data
    data = _cells(p.client.get("/portal/data.csv").content)
    assert len(data) > 2 and all(not c.startswith(("=", "@")) for row in data for c in row)


# --- security headers on every response ----------------------------------------------------------------
def test_every_response_carries_security_headers_and_only_the_widget_may_be_framed(env: Env) -> None:
    paths = [
        "/",
        "/contests/test-2026",
        "/contests/test-2026/widget",
        "/portal/",
        "/api/contests/",
        "/api/contests/test-2026/leaderboard",
        "/static/style.css",
        "/no-such-page",
        "/schema",
        "/admin",
    ]
    for path in paths:
        r = httpx.get(env.url + path)
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("referrer-policy"), path
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors" in csp, path
        if path.endswith("/widget"):
            assert f"frame-ancestors {WIDGET_FRAMERS}" in csp and "x-frame-options" not in r.headers
        else:
            assert "frame-ancestors 'none'" in csp, path
            assert r.headers.get("x-frame-options") == "DENY" or path == "/admin", path
    page = httpx.get(env.url + "/contests/test-2026").headers["content-security-policy"]
    assert "script-src 'self'" in page and "unsafe-inline" not in page.split("script-src")[1].split(";")[0]
    assert httpx.get(env.url + "/portal/").headers.get("cache-control") == "no-store"


# --- bad input: a clear 4xx, nothing lost ---------------------------------------------------------------
def test_a_long_upload_file_name_is_shortened_and_the_upload_survives_a_failed_import(env: Env) -> None:
    p = Portal(env.url)
    p.login(env.codes["A"])
    name = "C:\\Users\\amsel\\" + "zählerstand-" * 33 + ".csv"  # 400+ characters, with a Windows path
    preview = p.upload("A", name, german_register(10.0, 8.0).encode("utf-8"))
    assert preview.status_code == 200
    token = preview.text.split("/portal/upload/")[1].split("/confirm")[0]
    env.importer.fail_next = True
    failed = p.post(f"/portal/upload/{token}/confirm")
    assert failed.status_code == 500
    done = p.post(f"/portal/upload/{token}/confirm")  # the same upload, still waiting
    assert done.status_code == 200 and "/portal/imports/" in str(done.url)
    with env.db.session() as session:
        batches = HouseholdService(session).batches(HouseholdService(session).find("test-2026", "Amsel").id)
    stored = batches[0].filename or ""
    assert 0 < len(stored) <= 200 and stored.endswith(".csv") and "\\" not in stored


def test_nul_bytes_in_a_slug_are_not_found_not_a_server_error(env: Env) -> None:
    for path in (
        "/contests/te%00st",
        "/contests/te%00st/widget",
        "/api/contests/te%00st",
        "/api/contests/te%00st/leaderboard",
        "/api/admin/contests/te%00st",
        "/api/admin/contests/te%00st/results.csv",
        "/api/admin/contests/te%00st/season",
        "/api/admin/contests/te%00st/snapshots",
        "/api/admin/contests/te%00st/households",
        "/api/admin/contests/te%00st/config",
        "/api/admin/contests/te%00st/teams",
        "/api/admin/contests/te%00st/findings",
    ):
        r = httpx.get(env.url + path, headers=env.staff)
        assert r.status_code in (400, 404), (path, r.status_code, r.text[:200])
    r = httpx.post(f"{env.url}/api/admin/contests/te%00st/publish", headers=env.staff)
    assert r.status_code in (400, 404), r.text[:200]
    config = httpx.get(f"{env.url}/api/admin/contests/test-2026/config", headers=env.staff).json()
    for field, value in (("slug", "te\x00st"), ("name", "Test\x00"), ("slug", "s" * 81), ("name", "n" * 201)):
        body = {**config, "contest": {**config["contest"], field: value}}
        r = httpx.post(f"{env.url}/api/admin/contests", json=body, headers=env.staff)
        assert r.status_code == 400, (field, r.status_code, r.text[:200])
    assert httpx.get(f"{env.url}/api/admin/contests/test-2026", headers=env.staff).status_code == 200


def test_deeply_nested_admin_json_is_a_bad_request(env: Env) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    for method, path in (
        ("POST", "/api/admin/contests"),
        ("POST", "/api/admin/contests/test-2026/households"),
        ("POST", "/api/admin/contests/test-2026/teams"),
    ):
        r = httpx.request(
            method,
            env.url + path,
            content=deep,
            headers={**env.staff, "content-type": "application/json"},
        )
        assert r.status_code in (400, 404, 405, 413, 422), (path, r.status_code, r.text[:200])
    nested = '{"a":' * 5_000 + "1" + "}" * 5_000
    r = httpx.post(
        f"{env.url}/api/admin/contests",
        content='{"slug": "deep", "name": "deep", "scoring": ' + nested + "}",
        headers={**env.staff, "content-type": "application/json"},
    )
    assert r.status_code in (400, 422), (r.status_code, r.text[:200])


def test_a_utf16_csv_with_bom_is_accepted(env: Env) -> None:
    p = Portal(env.url)
    p.login(env.codes["A"])
    text = german_register(10.0, 8.0).replace("\n", "\r\n")
    preview = p.upload("A", "unicode-text.csv", b"\xff\xfe" + text.encode("utf-16-le"))
    assert preview.status_code == 200 and "/confirm" in preview.text, preview.text[:500]


# --- the shipped server cuts off slow clients ------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "change-me",
        "CHANGE-ME",
        "changeme",
        "secret",
        "kurz-aber-geheim",
        "change-me-" * 4,
        "a" * 40,
    ],
)
def test_contest_serve_refuses_a_missing_or_known_secret_key(
    key: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import cli.main

    served: list[object] = []
    monkeypatch.setattr(cli.main, "_serve", lambda *args: served.append(args))
    monkeypatch.setenv("CONTEST_DB_URL", f"sqlite:///{tmp_path / 'c.sqlite3'}")
    if key is None:
        monkeypatch.delenv("CONTEST_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("CONTEST_SECRET_KEY", key)
    result = CliRunner().invoke(cli.main.app, ["serve"])
    assert result.exit_code == 2 and "CONTEST_SECRET_KEY" in result.output and not served
    monkeypatch.setenv("CONTEST_SECRET_KEY", "9f2c41d8a07be63d5c1f8e24b9a7d063")  # a random one: it serves
    assert CliRunner().invoke(cli.main.app, ["serve"]).exit_code == 0 and len(served) == 1


def test_docker_compose_ships_no_secret_key_and_limits_the_server() -> None:
    import yaml

    root = Path(__file__).parents[2]
    app = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]["app"]
    key = str(app["environment"]["CONTEST_SECRET_KEY"])
    assert key.startswith("${CONTEST_SECRET_KEY:?"), key  # compose stops unless the operator sets one
    dockerfile = (root / "Dockerfile").read_text()
    for name in ("CONTEST_WEB_KEEP_ALIVE_S", "CONTEST_WEB_LIMIT_CONCURRENCY", "CONTEST_WEB_HEADER_TIMEOUT_S"):
        assert name in dockerfile


def test_contest_serve_closes_connections_that_never_finish_their_headers(tmp_path: Path) -> None:
    import uvicorn

    from cli.webserver import uvicorn_config

    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")

    web = WebSettings(
        secret_key="x" * 40, upload_dir=str(tmp_path / "up"), header_timeout_s=1, limit_concurrency=50
    )
    port = free_port()
    config = uvicorn_config(create_app(db, web), web, "127.0.0.1", port, log_level="warning")
    assert config.timeout_keep_alive == web.timeout_keep_alive_s and config.limit_concurrency == 50
    assert config.http.max_header_bytes == web.max_header_bytes  # type: ignore[union-attr]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for s in slow:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and then nothing more
            s.settimeout(5)
        started = time.monotonic()
        for s in slow:
            assert s.recv(100) == b""  # closed by the server
            s.close()
        assert time.monotonic() - started < 4
        # A request head growing past the limit is refused at once; ordinary requests are served.
        with socket.create_connection(("127.0.0.1", port)) as big:
            big.settimeout(5)
            big.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (web.max_header_bytes + 10))
            assert big.recv(100).startswith(b"HTTP/1.1 400")
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        # A large body (an upload) is no part of the head: it reaches the app (here: no token, 401).
        posted = httpx.post(f"http://127.0.0.1:{port}/api/admin/contests", content=b"x" * 200_000)
        assert posted.status_code == 401
    finally:
        server.should_exit = True
        thread.join(10)
        db.dispose()


@pytest.mark.browser
def test_the_city_site_can_frame_the_widget_but_not_the_portal(browser: Any, tmp_path: Path) -> None:
    import http.server

    db = Database(f"sqlite:///{tmp_path / 'frame.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "AB":
        CsvImporter(db).import_file(files[meter], meter)
    city_port = free_port()
    web = WebSettings(
        secret_key="f" * 40,
        upload_dir=str(tmp_path / "up"),
        widget_frame_ancestors=f"http://127.0.0.1:{city_port}",
    )
    with live_server(create_app(db, web, clock=lambda: AS_OF)) as url:
        (tmp_path / "city").mkdir()
        (tmp_path / "city" / "index.html").write_text(
            f'<iframe id="w" src="{url}/contests/test-2026/widget"></iframe>'
            f'<iframe id="p" src="{url}/portal/"></iframe>'
            f'<iframe id="l" src="{url}/contests/test-2026"></iframe>',
            encoding="utf-8",
        )

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(tmp_path / "city"), **kwargs)

            def log_message(self, *args: Any) -> None:
                pass

        city = http.server.ThreadingHTTPServer(("127.0.0.1", city_port), Quiet)
        threading.Thread(target=city.serve_forever, daemon=True).start()
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{city_port}/index.html", wait_until="load")
            page.wait_for_timeout(500)
            texts: list[tuple[str, str]] = []
            for frame in page.frames[1:]:
                try:
                    texts.append((frame.url, frame.locator("body").inner_text(timeout=2000)))
                except Exception:
                    texts.append((frame.url, ""))
            widget = next(t for u, t in texts if u.endswith("/widget"))
            assert "Testwettbewerb 2026" in widget  # the widget shows in the city's page
            others = [t for u, t in texts if not u.endswith("/widget")]
            assert len(others) == 2  # the portal and the full page do not
            assert not any("Zugangscode" in t or "Testwettbewerb" in t for t in others), others
        finally:
            context.close()
            city.shutdown()
    db.dispose()
