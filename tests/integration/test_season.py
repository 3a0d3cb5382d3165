"""A contest's whole season, as the city runs it, with an injected clock (no real-time sleeping):
set up as a draft weeks before the start, announced, households sign in and bring baseline data, the
start, a smart meter bound at the start streaming over a real Mosquitto, monthly manual readings,
daily publications, an absence, the end, a late upload in the grace period, final, a later upload
that changes nothing public, reopened and closed again by staff, archived. At every step the public
page, widget, JSON API, retained MQTT message, portal and admin page and API answer 200 and show the
state. Runs on SQLite and on PostgreSQL; key steps also in headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.publishing import PublishingService
from contest.settings import WebSettings
from contest.staff import StaffService
from ingest.importer import CsvImporter
from ingest.mqtt_publish import RetainedLeaderboardPublisher
from ingest.mqtt_worker import MqttWorker
from tests.ingest_process import wait_for
from tests.integration.test_mqtt_worker import worker_settings
from tests.mqtt_broker import Broker, mosquitto
from tests.mqtt_publish import Publisher
from tests.servers import live_server
from web.app import create_app

BERLIN = ZoneInfo("Europe/Berlin")
SLUG = "soest-winter-2026"

CONTEST = f"""
[contest]
slug = "{SLUG}"
name = "Energiesparwinter Soest 2026"
timezone = "Europe/Berlin"
carrier = "electricity"
state = "draft"
grace_days = 14
baseline = {{ start = 2026-10-01, end = 2026-11-30 }}
competition = {{ start = 2026-12-01, end = 2026-12-31 }}

[scoring]
min_coverage_fraction = 0.8
min_team_members = 1

[[teams]]
name = "Nord"

[[teams]]
name = "Süd"

[[households]]
pseudonym = "Amsel"
team = "Nord"
persons = 2
public = true
meters = [{{ id = "AMSEL-STROM", kind = "register" }}]

[[households]]
pseudonym = "Biene"
team = "Nord"
persons = 3
public = true
meters = [{{ id = "BIENE-STROM", kind = "register" }}]

[[households]]
pseudonym = "Chamäleon"
team = "Süd"
persons = 1
public = true
meters = [{{ id = "CHAM-STROM", kind = "register" }}]

[[households]]
pseudonym = "Dachs"
team = "Süd"
persons = 4
public = true
meters = [{{ id = "DACHS-STROM", kind = "register" }}]
"""


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=BERLIN)


def readings_csv(first: dt.date, last: dt.date, start_kwh: float, kwh_per_day: dict[str, float]) -> bytes:
    """Register readings at each local midnight from ``first`` to ``last``, as a household types them
    from the meter's display (German dialect); the daily use is ``kwh_per_day["baseline"]`` before
    1 December and ``kwh_per_day["competition"]`` from then on."""
    lines = ["Datum;Zählerstand (kWh)"]
    value = start_kwh
    day = first
    while day <= last:
        lines.append(f"{day:%d.%m.%Y} 00:00;" + f"{value:.2f}".replace(".", ","))
        value += kwh_per_day["competition" if day >= dt.date(2026, 12, 1) else "baseline"]
        day += dt.timedelta(days=1)
    return ("\n".join(lines) + "\n").encode("utf-8")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC)


class Portal:
    """A household's browser: cookies and the CSRF token the forms send."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, follow_redirects=True, timeout=60)
        self.client.get("/portal/")

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        token = self.client.cookies.get("csrftoken") or ""
        return self.client.post(url, headers={"x-csrftoken": token}, **kwargs)

    def login(self, code: str) -> None:
        response = self.post("/portal/login", data={"code": code})
        assert response.status_code == 200, response.text[:500]

    def upload(self, meter: str, content: bytes) -> httpx.Response:
        preview = self.post(
            "/portal/upload", data={"meter": meter}, files={"file": ("zaehler.csv", content, "text/csv")}
        )
        assert preview.status_code == 200, preview.text[:2000]
        token = preview.text.split("/portal/upload/")[1].split("/confirm")[0]
        report = self.post(f"/portal/upload/{token}/confirm")
        assert report.status_code == 200, report.text[:2000]
        return report


@dataclass
class Display:
    """A city display subscribed to the retained leaderboard messages."""

    broker: Broker
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.username_pw_set("display", "display-pw")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"contests/{SLUG}/leaderboard", qos=1)
        self.client.on_message = lambda c, u, m: self.messages.append(json.loads(m.payload))
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Season:
    """Everything a season needs, wired as `contest serve` and `contest ingest` wire it."""

    db: Database
    clock: Clock
    publishing: PublishingService
    url: str
    web: httpx.Client
    staff: dict[str, str]
    codes: dict[str, str]
    display: Display
    broker: Broker

    def tick(self) -> list[str]:
        """One run of the scheduled job, as apscheduler runs it every few minutes."""
        done = self.publishing.publish_running(min_interval_s=0)
        self.publishing.flush()
        return done

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.web.request(method, f"/api/admin{path}", headers=self.staff, **kwargs)

    def portal(self, who: str) -> Portal:
        p = Portal(self.url)
        p.login(self.codes[who])
        return p

    def leaderboard(self) -> dict[str, Any]:
        response = self.web.get(f"/api/contests/{SLUG}/leaderboard")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def public_figures(self) -> dict[str, Any]:
        """What the public sees of the result (without the season block, which tells the time)."""
        body = self.leaderboard()
        return {k: body[k] for k in ("city", "teams", "households", "as_of", "households_total")}

    def check_surfaces(self, state: str, portal: Portal) -> None:
        """Every surface answers 200 and shows the state."""
        index = self.web.get("/")
        assert index.status_code == 200 and f'data-state="{state}"' in index.text, index.text[:3000]
        # (the language chosen last is remembered: German again at the end)
        for path in (f"/contests/{SLUG}?lang=en", f"/contests/{SLUG}/widget", f"/contests/{SLUG}?lang=de"):
            page = self.web.get(path)
            assert page.status_code == 200, (path, page.text[:2000])
            assert f'data-state="{state}"' in page.text, (path, page.text[:3000])
        assert self.leaderboard()["season"]["state"] == state
        contest = self.web.get(f"/api/contests/{SLUG}")
        assert contest.status_code == 200 and contest.json()["season"]["state"] == state
        listed = self.web.get("/api/contests/")
        assert listed.status_code == 200 and [c["season"]["state"] for c in listed.json()] == [state]
        home = portal.client.get("/portal/")
        assert home.status_code == 200 and f'data-state="{state}"' in home.text, home.text[:3000]
        assert self.web.get("/admin").status_code == 200
        detail = self.admin("GET", f"/contests/{SLUG}")
        assert detail.status_code == 200 and detail.json()["status"] == state, detail.text
        season = self.admin("GET", f"/contests/{SLUG}/season")
        assert season.status_code == 200 and season.json()["status"] == state
        assert detail.json()["last_error"] is None, detail.json()["last_error"]

    def retained_state(self, expected: str) -> str:
        """The state of the newest leaderboard message a city display got (waits for ``expected``:
        the message travels through the broker after the publication returned)."""
        wait_for(lambda: bool(self.display.messages) and self.display.messages[-1]["state"] == expected, 10)
        assert self.display.messages, "no retained leaderboard message"
        return str(self.display.messages[-1]["state"])


class Chromium:
    """Key steps as people see them: a phone for the public and the households, a desk for the staff."""

    def __init__(self, browser: Any, season: Season) -> None:
        self.browser = browser
        self.season = season

    def public_page(self, expect: list[str]) -> str:
        context = self.browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
        page = context.new_page()
        try:
            page.goto(f"{self.season.url}/contests/{SLUG}", wait_until="load")
            state = page.locator("#state").inner_text()
            for text in expect:
                assert text in state or text in page.locator("main").inner_text(), (text, state)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0  # nothing sideways on a phone
            return str(page.locator("main").inner_text())
        finally:
            context.close()

    def staff_season(self, token: str) -> tuple[str, list[str]]:
        """The state on the admin page and the season buttons it offers."""
        context = self.browser.new_context(viewport={"width": 1366, "height": 900}, locale="de-DE")
        page = context.new_page()
        try:
            page.goto(f"{self.season.url}/admin", wait_until="load")
            page.fill("#token", token)
            page.click("#token-form button[type=submit]")
            page.wait_for_selector("#contests tbody tr")
            page.locator("#contests tbody tr").first.get_by_role("button").first.click()
            page.wait_for_selector("#season[data-state]")  # the page's CSP allows no evaluated script
            buttons = [
                b
                for b in ("announce", "close", "reopen", "archive")
                if page.locator(f"#season-{b}").is_visible()
            ]
            return str(page.locator("#season-state").inner_text()), buttons
        finally:
            context.close()

    def staff_meters(self, token: str, pseudonym: str) -> tuple[str, str]:
        """The admin page's view of a household's meters, and of devices without a binding."""
        context = self.browser.new_context(viewport={"width": 1366, "height": 900}, locale="de-DE")
        page = context.new_page()
        try:
            page.goto(f"{self.season.url}/admin", wait_until="load")
            page.fill("#token", token)
            page.click("#token-form button[type=submit]")
            page.wait_for_selector("#contests tbody tr")
            page.locator("#contests tbody tr").first.get_by_role("button").first.click()
            row = page.locator("#households tbody tr", has_text=pseudonym)
            row.wait_for()
            row.get_by_role("button", name=f"Zähler: {pseudonym}").click()
            page.wait_for_selector("#meters-card:not([hidden]) #meters tbody tr")
            page.wait_for_selector("#unbound-devices tbody tr")
            return str(page.locator("#meters tbody").inner_text()), str(
                page.locator("#unbound-devices tbody").inner_text()
            )
        finally:
            context.close()

    def certificate(self, code: str) -> bytes:
        """Sign in to the portal and download the certificate with the link on the page."""
        context = self.browser.new_context(
            viewport={"width": 390, "height": 844}, locale="de-DE", accept_downloads=True
        )
        page = context.new_page()
        try:
            page.goto(f"{self.season.url}/portal/", wait_until="load")
            page.fill("#code", code)
            page.click("button[type=submit]")
            page.wait_for_selector("#certificate")
            with page.expect_download() as download:
                page.click("#certificate")
            return Path(download.value.path()).read_bytes()
        finally:
            context.close()


@pytest.fixture
def season(db: Database, tmp_path: Path) -> Iterator[Season]:
    clock = Clock(at(2026, 11, 2, 9))
    with mosquitto(
        {"tasmota-biene": "pw-biene", "tasmota-nachbar": "pw-nachbar", "display": "display-pw"}
    ) as broker:
        feed = RetainedLeaderboardPublisher(worker_settings(broker, client_id="season-feed"))
        assert feed.connected.wait(10)
        publishing = PublishingService(db, clock=clock, cache_ttl_s=0.0, on_published=feed)
        web = WebSettings(secret_key="season-secret", upload_dir=str(tmp_path / "uploads"))
        app = create_app(db, web, clock=clock, importer=CsvImporter(db, clock=clock), publishing=publishing)
        display = Display(broker)
        with db.session() as session:
            token = StaffService(session).create_token("stadt-soest")
        with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
            yield Season(
                db=db,
                clock=clock,
                publishing=publishing,
                url=url,
                web=client,
                staff={"Authorization": f"Bearer {token}"},
                codes={},
                display=display,
                broker=broker,
            )
        display.close()
        publishing.close()
        feed.close()


@pytest.mark.browser
def test_a_contest_lives_through_its_whole_season(season: Season, browser: Any) -> None:
    s = season
    chromium = Chromium(browser, s)
    token = s.staff["Authorization"].removeprefix("Bearer ")
    # --- 2 November: staff set the contest up as a draft, a month before the start -------------------
    with s.db.session() as session:
        ContestService(session).setup(parse_contest_config(CONTEST))
    with s.db.session() as session:
        households = HouseholdService(session)
        for name in ("Amsel", "Biene", "Chamäleon", "Dachs"):
            s.codes[name] = households.issue_access_code(households.find(SLUG, name).id)[1]
    assert s.tick() == []  # a draft is the staff's alone: the schedule leaves it be
    assert s.web.get(f"/contests/{SLUG}").status_code == 404
    assert s.web.get(f"/api/contests/{SLUG}/leaderboard").status_code == 404
    assert s.web.get(f"/contests/{SLUG}/widget").status_code == 404
    assert SLUG not in s.web.get("/").text
    assert s.admin("GET", f"/contests/{SLUG}").json()["status"] == "draft"
    published = s.admin("POST", f"/contests/{SLUG}/publish")  # staff may preview a draft
    assert published.status_code == 201, published.text
    assert s.web.get(f"/contests/{SLUG}").status_code == 404  # still not public
    assert s.display.messages == []  # nor on the displays

    # --- 3 November: announced ------------------------------------------------------------------
    s.clock.now = at(2026, 11, 3, 10)
    announced = s.admin("POST", f"/contests/{SLUG}/announce")
    assert announced.status_code == 201, announced.text
    assert announced.json()["events"][0]["actor"] == "staff:stadt-soest"
    amsel = s.portal("Amsel")
    s.check_surfaces("announced", amsel)
    page = s.web.get(f"/contests/{SLUG}").text
    assert "Noch 28 Tage bis zum Start" in page and "So machen Sie mit" in page
    assert 'id="households"' not in page and 'id="teams"' not in page  # no ranks before the start
    assert s.retained_state("announced") == "announced"
    shown = chromium.public_page(["Angekündigt", "Noch 28 Tage bis zum Start", "So machen Sie mit"])
    assert (
        "Ranglisten erscheinen mit dem Start des Wettbewerbs." in shown
        and "Gewertet / Mitglieder" not in shown
    )
    assert chromium.staff_season(token) == ("angekündigt", [])
    # Households bring their baseline data: Amsel from the meter's display, Biene from a utility export.
    amsel.upload(
        "AMSEL-STROM", readings_csv(dt.date(2026, 10, 1), dt.date(2026, 11, 3), 4000.0, {"baseline": 10.0})
    )
    biene = s.portal("Biene")
    biene.upload(
        "BIENE-STROM", readings_csv(dt.date(2026, 10, 1), dt.date(2026, 11, 3), 13_000.0, {"baseline": 12.0})
    )
    s.publishing.flush()
    home = amsel.client.get("/portal/").text
    assert 'id="baseline"' in home and "10,00 kWh/Tag" in home, home[:4000]
    board = s.leaderboard()
    # Coverage counts the baseline days so far: both have every day up to today, the others none.
    assert board["city"]["participants"] == 4 and board["city"]["baseline_ready"] == 2
    assert all(h["rank"] is None for h in board["households"])

    # --- 30 November: the rest of the baseline; Chamäleon brings its own ---------------------------
    s.clock.now = at(2026, 11, 30, 20)
    amsel.upload(
        "AMSEL-STROM", readings_csv(dt.date(2026, 11, 3), dt.date(2026, 11, 30), 4330.0, {"baseline": 10.0})
    )
    biene.upload(
        "BIENE-STROM", readings_csv(dt.date(2026, 11, 3), dt.date(2026, 11, 30), 13_396.0, {"baseline": 12.0})
    )
    chamaeleon = s.portal("Chamäleon")
    chamaeleon.upload(
        "CHAM-STROM", readings_csv(dt.date(2026, 10, 1), dt.date(2026, 11, 30), 700.0, {"baseline": 11.0})
    )
    s.tick()
    assert s.leaderboard()["city"]["baseline_ready"] == 3
    s.check_surfaces("announced", amsel)

    # --- 1 December: the start; staff bind Biene's smart meter reader ----------------------------
    s.clock.now = at(2026, 12, 1, 0) + dt.timedelta(seconds=10)
    assert s.tick() == [SLUG]
    s.check_surfaces("running", amsel)
    assert s.retained_state("running") == "running"
    events = s.admin("GET", f"/contests/{SLUG}/season").json()["events"]
    assert (events[0]["from_state"], events[0]["to_state"], events[0]["actor"]) == (
        "announced",
        "running",
        "clock",
    )
    # Biene's reading of the display at the start, then the reader is bound (it counts from its own zero).
    biene.upload(
        "BIENE-STROM",
        readings_csv(
            dt.date(2026, 11, 30), dt.date(2026, 12, 1), 13_720.0, {"baseline": 12.0, "competition": 9.0}
        ),
    )
    bound = s.admin("POST", "/meters/BIENE-STROM/bindings", json={"device": "tasmota-biene"})
    assert bound.status_code == 201, bound.text
    worker = MqttWorker(s.db, worker_settings(s.broker, client_id="season-ingest"), clock=s.clock)
    worker.start()
    device = Publisher(s.broker.host, s.broker.port, "tasmota-biene", "pw-biene", "tasmota-biene")
    try:
        assert worker.connected.wait(10)
        register = 1.5  # the reader's own register, nothing like the display's 13,7xx kWh
        # --- December: the reader streams, the schedule publishes every day -----------------------
        for day in range(1, 32):
            stamp = dt.datetime(2026, 12, day, 0, 1, 0)
            s.clock.now = stamp.replace(tzinfo=BERLIN) + dt.timedelta(seconds=30)
            device.publish_all(
                [
                    (
                        "tele/tasmota-biene/SENSOR",
                        json.dumps(
                            {"Time": stamp.isoformat(), "ENERGY": {"Total": round(register, 3)}}
                        ).encode(),
                    )
                ]
            )
            register += 9.0
            received = day
            assert wait_for(lambda n=received: worker.stats.stored >= n, 20), worker.stats  # type: ignore[misc]
            if day == 20:  # Chamäleon is away for Christmas and says so in the portal
                declared = chamaeleon.post(
                    "/portal/absences",
                    data={"first_day": "2026-12-20", "last_day": "2026-12-26", "note": "Urlaub"},
                )
                assert declared.status_code == 200, declared.text[:2000]
            if day == 24:  # Chamäleon's December so far
                chamaeleon.upload(
                    "CHAM-STROM",
                    readings_csv(
                        dt.date(2026, 11, 30),
                        dt.date(2026, 12, 24),
                        1360.0,
                        {"baseline": 11.0, "competition": 9.9},
                    ),
                )
            s.tick()
        s.clock.now = at(2027, 1, 1, 0) + dt.timedelta(minutes=2)
        device.publish_all(
            [
                (
                    "tele/tasmota-biene/SENSOR",
                    json.dumps(
                        {"Time": "2027-01-01T00:01:00", "ENERGY": {"Total": round(register, 3)}}
                    ).encode(),
                )
            ]
        )
        assert wait_for(lambda: worker.stats.stored >= 32, 20), worker.stats
        # A neighbour's reader publishes too, bound to no meter: kept, shown to the staff.
        stranger = Publisher(s.broker.host, s.broker.port, "tasmota-nachbar", "pw-nachbar", "tasmota-nachbar")
        stranger.publish_all(
            [("tele/tasmota-nachbar/SENSOR", b'{"Time": "2027-01-01T00:01:10", "ENERGY": {"Total": 77.0}}')]
        )
        stranger.close()
        assert wait_for(lambda: worker.stats.rejected >= 1, 20), worker.stats
    finally:
        device.close()
        worker.stop()
    meters, unbound = chromium.staff_meters(token, "Biene")
    assert "tasmota-biene" in meters and "gespeichert" in meters, meters
    assert "tasmota-nachbar" in unbound, unbound
    rejected = s.admin("GET", "/rejected", params={"source": "mqtt"}).json()
    assert rejected == [] or all("backwards" not in r["reason"] for r in rejected), rejected

    # --- 1 January: the end; the result is provisional ------------------------------------------
    # Amsel reads the meter once a month: the readings of 1 December and 1 January.
    s.clock.now = at(2027, 1, 1, 9)
    amsel.upload(
        "AMSEL-STROM",
        "Datum;Zählerstand (kWh)\n01.12.2026 00:00;4610,00\n01.01.2027 00:00;4858,00\n".encode(),
    )
    s.tick()
    s.check_surfaces("closing", amsel)
    assert s.retained_state("closing") == "closing"
    page = s.web.get(f"/contests/{SLUG}").text
    assert "vorläufiges Ergebnis" in page and "15.01.2027" not in page and "14.01.2027" in page
    provisional = s.leaderboard()
    by_name = {h["pseudonym"]: h for h in provisional["households"]}
    assert by_name["Amsel"]["savings_fraction"] == pytest.approx(0.2, abs=0.002)
    assert by_name["Biene"]["savings_fraction"] == pytest.approx(0.25, abs=0.002)  # across the two series
    assert by_name["Biene"]["rank"] == 1
    assert by_name["Dachs"]["rank"] is None  # no data at all: listed, not ranked
    cham_before = by_name["Chamäleon"]
    # A late upload in the grace period changes the provisional result.
    s.clock.now = at(2027, 1, 5, 18)
    chamaeleon.upload(
        "CHAM-STROM",
        readings_csv(
            dt.date(2026, 12, 24),
            dt.date(2027, 1, 1),
            1371.0 + 23 * 9.9,
            {"baseline": 11.0, "competition": 5.5},
        ),
    )
    s.publishing.flush()
    cham_after = {h["pseudonym"]: h for h in s.leaderboard()["households"]}["Chamäleon"]
    assert cham_after["competition_coverage_fraction"] > cham_before["competition_coverage_fraction"]
    assert cham_after["savings_fraction"] != cham_before["savings_fraction"]
    s.check_surfaces("closing", amsel)

    # --- 15 January: the grace period is over; the schedule declares the result final ---------------
    s.clock.now = at(2027, 1, 15, 0) + dt.timedelta(minutes=5)
    assert s.tick() == [SLUG]
    s.check_surfaces("final", amsel)
    assert s.retained_state("final") == "final"
    final_figures = s.public_figures()
    final_csv = s.admin("GET", f"/contests/{SLUG}/results.csv").text  # the staff's copy of the result
    final_season = s.admin("GET", f"/contests/{SLUG}/season").json()
    first_final = final_season["final_snapshot_id"]
    assert final_season["events"][0]["to_state"] == "final" and final_season["events"][0]["actor"] == "clock"
    page = s.web.get(f"/contests/{SLUG}").text
    assert (
        "Endergebnis" in page and 'id="winners"' in page and "Biene" in page.split('id="winners"')[1][:2000]
    )
    chromium.public_page(["Endergebnis", "Die Gewinner", "Biene"])
    assert chromium.staff_season(token) == ("Endergebnis", ["reopen", "archive"])
    assert chromium.certificate(s.codes["Biene"]).startswith(b"%PDF")
    certificate = amsel.client.get("/portal/certificate.pdf")
    assert certificate.status_code == 200 and certificate.headers["content-type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")
    assert 'id="final-upload"' in amsel.client.get("/portal/").text  # uploads now don't count, it says

    # --- 20 January: data arriving later changes nothing public ----------------------------------
    s.clock.now = at(2027, 1, 20, 11)
    dachs = s.portal("Dachs")
    dachs.upload(
        "DACHS-STROM",
        readings_csv(
            dt.date(2026, 10, 1), dt.date(2027, 1, 1), 9000.0, {"baseline": 15.0, "competition": 9.0}
        ),
    )
    s.publishing.flush()
    last_published = s.admin("GET", f"/contests/{SLUG}").json()["last_published_at"]
    assert s.admin("POST", f"/contests/{SLUG}/publish").status_code == 201  # "publish now": frozen
    assert s.admin("GET", f"/contests/{SLUG}").json()["last_published_at"] == last_published
    assert s.tick() == []  # the schedule leaves a final result be
    assert s.public_figures() == final_figures
    assert s.admin("GET", f"/contests/{SLUG}/results.csv").text == final_csv
    assert s.admin("GET", f"/contests/{SLUG}/season").json()["final_snapshot_id"] == first_final
    late = s.admin("GET", f"/contests/{SLUG}/season").json()["late_imports"]
    assert [i["meter"] for i in late] == ["DACHS-STROM"]  # stored and reported to the staff
    s.check_surfaces("final", amsel)

    # --- 22 January: staff reopen (logged with the reason) and close again --------------------------
    s.clock.now = at(2027, 1, 22, 10)
    refused = s.admin("POST", f"/contests/{SLUG}/reopen", json={})
    assert refused.status_code == 400  # a reason is required
    reopened = s.admin("POST", f"/contests/{SLUG}/reopen", json={"reason": "Dachs lieferte Daten nach"})
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["events"][0]["reason"] == "Dachs lieferte Daten nach"
    s.check_surfaces("closing", amsel)
    reopened_board = s.leaderboard()
    assert {h["pseudonym"]: h for h in reopened_board["households"]}["Dachs"]["rank"] is not None
    assert reopened_board["season"]["reopened"] is True
    s.clock.now = at(2027, 2, 20, 10)  # long after the grace period: a reopened result waits for the staff
    s.tick()
    s.check_surfaces("closing", amsel)
    closed = s.admin("POST", f"/contests/{SLUG}/close", json={"reason": "Preisverleihung"})
    assert closed.status_code == 201, closed.text
    second_final = closed.json()["final_snapshot_id"]
    assert second_final != first_final
    assert [(e["to_state"], e["actor"]) for e in closed.json()["events"][:2]] == [
        ("final", "staff:stadt-soest"),
        ("closing", "staff:stadt-soest"),
    ]
    s.check_surfaces("final", amsel)
    assert s.public_figures() != final_figures  # the new final revision includes Dachs

    # --- next year: archived, still there to look up --------------------------------------------
    s.clock.now = at(2027, 11, 1, 10)
    archived = s.admin("POST", f"/contests/{SLUG}/archive", json={})
    assert archived.status_code == 201, archived.text
    s.check_surfaces("archived", amsel)
    assert s.retained_state("archived") == "archived"
    winner = next(h for h in s.leaderboard()["households"] if h["rank"] == 1)["pseudonym"]
    index = s.web.get("/").text
    assert "Archiv" in index and winner in index.split('class="winners"')[1]  # the winners stay listed
