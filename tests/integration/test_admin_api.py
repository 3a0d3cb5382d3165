"""The staff's admin API over real HTTP, on SQLite and PostgreSQL: what city staff rely on when they
manage a contest (contests, teams, households, access codes, meters, device bindings, findings,
snapshots, the rejected-records store), and clear 4xx answers when a token, an id or the input is wrong."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from contest.absences import AbsenceService
from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.households import HouseholdService
from contest.models import LeaderboardSnapshot
from contest.settings import MqttSettings, WebSettings
from contest.staff import StaffService
from ingest.importer import CsvImporter
from ingest.mqtt_worker import Message, MqttWorker
from tests import stored as readback
from tests.integration.contest_fixture import AS_OF, DAYS, write_contest_files
from tests.servers import live_server
from web.app import create_app

SLUG = "test-2026"


@dataclass
class Admin:
    """The running app and a staff client with a valid token."""

    url: str
    client: httpx.Client
    db: Database

    def ids(self) -> dict[str, int]:
        """Household ids by pseudonym."""
        households = self.client.get(f"/contests/{SLUG}/households").json()
        return {h["pseudonym"]: h["id"] for h in households}


@pytest.fixture
def admin(db: Database, tmp_path: Path) -> Iterator[Admin]:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    with db.session() as session:
        token = StaffService(session).create_token("stadt-team")
    web = WebSettings(secret_key="admin-api-test", upload_dir=str(tmp_path / "up"))
    with live_server(create_app(db, web, clock=lambda: AS_OF, importer=CsvImporter(db))) as url:
        client = httpx.Client(
            base_url=f"{url}/api/admin", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        yield Admin(url, client, db)
        client.close()


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _register_csv(daily_kwh: list[float], start: float = 1000.0) -> str:
    """Daily register readings at local midnight (German dialect), one more than there are days."""
    lines = ["Datum;Zählerstand (kWh)"]
    value = start
    for i, day in enumerate([*DAYS, DAYS[-1] + dt.timedelta(days=1)]):
        lines.append(f"{day:%d.%m.%Y} 00:00;" + f"{value:.2f}".replace(".", ","))
        if i < len(daily_kwh):
            value += daily_kwh[i]
    return "\n".join(lines) + "\n"


# --- authentication ---------------------------------------------------------------------------------
def test_every_admin_endpoint_answers_401_without_a_valid_token(admin: Admin) -> None:
    requests = [
        ("GET", "/contests"),
        ("GET", f"/contests/{SLUG}"),
        ("GET", f"/contests/{SLUG}/config"),
        ("GET", f"/contests/{SLUG}/households"),
        ("PATCH", "/households/1"),
        ("DELETE", "/households/1"),
        ("POST", "/households/1/access-code"),
        ("GET", "/households/1/meters"),
        ("GET", "/households/1/absences"),
        ("GET", "/bindings"),
        ("GET", "/devices/unbound"),
        ("GET", "/devices/last-seen?device=x"),
        ("GET", f"/contests/{SLUG}/findings"),
        ("GET", f"/contests/{SLUG}/snapshots"),
        ("POST", f"/contests/{SLUG}/publish"),
    ]
    for headers in ({}, {"Authorization": "Bearer cst_wrong"}, {"Authorization": "Basic c3RhZGQ6cHc="}):
        for method, path in requests:
            response = httpx.request(method, f"{admin.url}/api/admin{path}", headers=headers, json={})
            body = _error(response, 401)
            assert body["error"] in ("auth.staff_required", "auth.staff_invalid")
            assert response.headers["www-authenticate"].startswith("Bearer")
    # Nothing was changed by the refused requests.
    assert admin.client.get(f"/contests/{SLUG}/snapshots").json() == []
    assert len(admin.client.get(f"/contests/{SLUG}/households").json()) == 5


def test_staff_see_the_absences_a_household_declared(admin: Admin) -> None:
    biene = admin.ids()["Biene"]
    with admin.db.session() as session:
        declared = AbsenceService(session).add(
            biene, dt.date(2026, 1, 14), dt.date(2026, 1, 16), note="Urlaub"
        )
    assert admin.client.get(f"/households/{biene}/absences").json() == [
        {"id": declared.id, "first_day": "2026-01-14", "last_day": "2026-01-16", "days": 3, "note": "Urlaub"}
    ]
    assert admin.client.get(f"/households/{admin.ids()['Amsel']}/absences").json() == []
    _error(admin.client.get("/households/999999/absences"), 404)


# --- contests and teams -----------------------------------------------------------------------------
def test_a_contest_shows_status_teams_size_and_settings(admin: Admin) -> None:
    contest = admin.client.get(f"/contests/{SLUG}").json()
    assert contest["status"] == "running" and contest["closed_at"] is None
    assert contest["households"] == 5
    assert [(t["name"], t["households"]) for t in contest["teams"]] == [("Nordviertel", 3)]
    assert contest["rules"]["scoring"]["min_coverage_fraction"] == 0.8
    assert contest["rules"]["scoring"]["min_team_members"] == 3
    assert contest["competition"] == {"start": "2026-01-11", "end": "2026-01-31"}
    assert [c["slug"] for c in admin.client.get("/contests").json()] == [SLUG]
    _error(admin.client.get("/contests/no-such-contest"), 404)
    _error(admin.client.get("/contests/no-such-contest/config"), 404)


def test_staff_fetch_a_contests_config_edit_it_and_post_it_back(admin: Admin) -> None:
    config = admin.client.get(f"/contests/{SLUG}/config").json()
    assert config["contest"]["baseline"] == {"start": "2026-01-01", "end": "2026-01-10"}
    assert [h["pseudonym"] for h in config["households"]] == [
        "Amsel",
        "Biene",
        "Chamäleon",
        "Dachs",
        "Elster",
    ]
    assert config["households"][1]["meters"] == [{"id": "B", "carrier": "electricity", "kind": "interval"}]
    assert config["households"][0]["team"] == "Nordviertel" and "team" not in config["households"][3]

    config["contest"]["name"] = "Testwettbewerb 2026 (verlängert)"
    config["contest"]["competition"]["end"] = "2026-02-28"
    config["scoring"]["excluded_days"] = ["2026-01-15"]
    config["teams"].append({"name": "Südstadt"})
    config["households"][4]["team"] = "Südstadt"
    posted = admin.client.post("/contests", json=config)
    assert posted.status_code == 201, posted.text
    assert posted.json()["name"] == "Testwettbewerb 2026 (verlängert)"
    assert posted.json()["competition"]["end"] == "2026-02-28"
    assert posted.json()["rules"]["scoring"]["excluded_days"] == ["2026-01-15"]

    # What comes back is what was posted: fetch, edit, post back is a round trip that loses nothing.
    assert admin.client.get(f"/contests/{SLUG}/config").json() == config
    assert admin.client.get(f"/contests/{SLUG}").json()["households"] == 5  # nothing deleted
    assert readback.count_readings(admin.db, "A") > 0

    broken = json.loads(json.dumps(config))
    broken["contest"]["baseline"]["end"] = "2026-03-01"  # after the competition starts
    _error(admin.client.post("/contests", json=broken), 400)
    _error(admin.client.post("/contests", json={"contest": []}), 400)


def test_staff_read_and_replace_a_contests_rules_with_their_schema(admin: Admin) -> None:
    rules = admin.client.get(f"/contests/{SLUG}/rules").json()
    assert rules["scoring"]["method"] == "prior_period_mean"
    assert rules["scoring"]["min_coverage_fraction"] == 0.8 and rules["privacy"]["min_team_size_public"] == 3
    assert rules == admin.client.get(f"/contests/{SLUG}").json()["rules"]

    rules["scoring"]["team_aggregation"] = "median"
    rules["scoring"]["excluded_days"] = ["2026-01-20"]
    rules["co2"] = {"electricity_kg_per_kwh": 0.5}  # keys left out take their defaults
    stored = admin.client.put(f"/contests/{SLUG}/rules", json=rules)
    assert stored.status_code == 200, stored.text
    assert stored.json()["co2"] == {
        "electricity_kg_per_kwh": 0.5,
        "gas_kg_per_kwh": 0.182,
        "heat_kg_per_kwh": None,
    }
    assert admin.client.get(f"/contests/{SLUG}/rules").json() == stored.json()
    # The contest file's structure carries the same tables, and scoring uses them.
    config = admin.client.get(f"/contests/{SLUG}/config").json()
    assert (config["scoring"], config["co2"], config["privacy"]) == (
        stored.json()["scoring"],
        stored.json()["co2"],
        stored.json()["privacy"],
    )
    with admin.db.session() as session:
        scoring = ContestService(session).get(SLUG).scoring_rules()
    assert scoring.team_aggregation == "median" and scoring.excluded_days == (dt.date(2026, 1, 20),)

    # Wrong rules are refused with the field named (the schema's bounds in ``extra``, scoring's checks in
    # ``detail``), and nothing is stored.
    for change, named in (
        ({"scoring": {"min_coverage_fraction": 1.5}}, "min_coverage_fraction"),
        ({"scoring": {"min_coverage_fracton": 0.5}}, "min_coverage_fracton"),
        ({"privacy": {"min_team_size_public": 0}}, "min_team_size_public"),
        ({"scoring": {"method": "astrology"}}, "baseline method must be one of"),
        # 52 weeks back from the competition lies before the 10-day baseline period
        ({"scoring": {"method": "prior_year_same_period"}}, "prior-year baseline"),
    ):
        assert named in json.dumps(_error(admin.client.put(f"/contests/{SLUG}/rules", json=change), 400))
    assert admin.client.get(f"/contests/{SLUG}/rules").json() == stored.json()
    _error(admin.client.put("/contests/no-such-contest/rules", json={}), 404)
    _error(admin.client.get("/contests/no-such-contest/rules"), 404)


def test_teams_are_listed_created_and_renamed(admin: Admin) -> None:
    created = admin.client.post(f"/contests/{SLUG}/teams", json={"name": "Südstadt"})
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["name"] == "Südstadt" and team["households"] == 0
    _error(admin.client.post(f"/contests/{SLUG}/teams", json={"name": "Südstadt"}), 409)
    _error(admin.client.post(f"/contests/{SLUG}/teams", json={"name": ""}), 400)
    _error(admin.client.post(f"/contests/{SLUG}/teams", json={"name": "   "}), 400)
    _error(admin.client.post(f"/contests/{SLUG}/teams", json={"title": "x"}), 400)
    _error(admin.client.post("/contests/no-such-contest/teams", json={"name": "x"}), 404)

    renamed = admin.client.patch(f"/contests/{SLUG}/teams/{team['id']}", json={"name": "Südviertel"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Südviertel"
    _error(admin.client.patch(f"/contests/{SLUG}/teams/{team['id']}", json={"name": "Nordviertel"}), 409)
    _error(admin.client.patch(f"/contests/{SLUG}/teams/999999", json={"name": "x"}), 404)
    teams = admin.client.get(f"/contests/{SLUG}/teams").json()
    assert [(t["name"], t["households"]) for t in teams] == [("Nordviertel", 3), ("Südviertel", 0)]


# --- households -------------------------------------------------------------------------------------
def test_an_edited_household_is_listed_and_on_the_next_published_leaderboard(admin: Admin) -> None:
    ids = admin.ids()
    households = {h["pseudonym"]: h for h in admin.client.get(f"/contests/{SLUG}/households").json()}
    assert households["Amsel"]["meters"] == ["A"] and households["Amsel"]["team"] == "Nordviertel"
    assert households["Amsel"]["last_data_day"] == "2026-01-20"
    assert households["Chamäleon"]["public"] is False

    admin.client.post(f"/contests/{SLUG}/teams", json={"name": "Südstadt"})
    edited = admin.client.patch(
        f"/households/{ids['Chamäleon']}",
        json={
            "pseudonym": "Kolibri",
            "public": True,
            "persons": 3,
            "living_area_m2": 72.5,
            "team": "Südstadt",
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["pseudonym"] == "Kolibri" and edited.json()["team"] == "Südstadt"
    # A field left out stays; team null takes the household out of its team.
    assert admin.client.patch(f"/households/{ids['Elster']}", json={"persons": 4}).json()["public"] is True
    assert admin.client.patch(f"/households/{ids['Amsel']}", json={"team": None}).json()["team"] is None

    listed = {h["id"]: h for h in admin.client.get(f"/contests/{SLUG}/households").json()}
    kolibri = listed[ids["Chamäleon"]]
    assert (kolibri["pseudonym"], kolibri["team"], kolibri["persons"], kolibri["living_area_m2"]) == (
        "Kolibri",
        "Südstadt",
        3,
        72.5,
    )
    assert listed[ids["Elster"]]["persons"] == 4 and listed[ids["Amsel"]]["team"] is None
    assert admin.client.get(f"/households/{ids['Chamäleon']}").json() == kolibri

    snapshot = admin.client.post(f"/contests/{SLUG}/publish")
    assert snapshot.status_code == 201 and snapshot.json()["reason"] == "manual"
    board = httpx.get(f"{admin.url}/api/contests/{SLUG}/leaderboard").json()
    public = {h["pseudonym"]: h for h in board["households"]}
    assert "Kolibri" in public and "Chamäleon" not in public
    assert public["Kolibri"]["team"] == "Südstadt"
    assert public["Amsel"]["team"] is None

    # Bad input and unknown ids: clear 4xx, nothing changed.
    assert _error(admin.client.patch(f"/households/{ids['Elster']}", json={"persons": 0}), 400)["extra"]
    _error(admin.client.patch(f"/households/{ids['Elster']}", json={"persons": "drei"}), 400)
    _error(admin.client.patch(f"/households/{ids['Elster']}", json={"living_area_m2": 1.0}), 400)
    _error(admin.client.patch(f"/households/{ids['Elster']}", json={"publik": True}), 400)
    _error(admin.client.patch(f"/households/{ids['Elster']}", json={"pseudonym": "Bad\x07name"}), 400)
    _error(admin.client.patch(f"/households/{ids['Elster']}", json={"team": "Gibt es nicht"}), 400)
    taken = _error(admin.client.patch(f"/households/{ids['Elster']}", json={"pseudonym": "Amsel"}), 409)
    assert taken["error"] == "household.pseudonym_taken"
    _error(admin.client.patch("/households/999999", json={"persons": 2}), 404)
    _error(admin.client.get("/households/999999"), 404)
    _error(admin.client.get("/households/0"), 400)
    _error(admin.client.get("/contests/no-such-contest/households"), 404)
    assert admin.client.get(f"/households/{ids['Elster']}").json()["pseudonym"] == "Elster"


def test_a_reissued_access_code_signs_in_and_the_old_one_no_longer_does(admin: Admin) -> None:
    ids = admin.ids()

    def sign_in(code: str) -> int:
        browser = httpx.Client(base_url=admin.url)
        browser.get("/portal/")
        csrf = {"x-csrftoken": browser.cookies.get("csrftoken") or ""}
        return browser.post("/portal/login", data={"code": code}, headers=csrf).status_code

    first = admin.client.post(f"/households/{ids['Biene']}/access-code")
    assert first.status_code == 201, first.text
    assert first.json()["pseudonym"] == "Biene"
    old_code = first.json()["access_code"]
    assert sign_in(old_code) == 302
    second = admin.client.post(f"/households/{ids['Biene']}/access-code").json()
    assert second["access_code"] != old_code
    assert sign_in(second["access_code"]) == 302
    assert sign_in(old_code) == 403
    with admin.db.session() as session:
        assert HouseholdService(session).authenticate(second["access_code"]).id == ids["Biene"]
    listed = {h["pseudonym"]: h for h in admin.client.get(f"/contests/{SLUG}/households").json()}
    assert listed["Biene"]["has_access_code"] is True and listed["Amsel"]["has_access_code"] is False
    assert old_code not in admin.client.get(f"/households/{ids['Biene']}").text
    _error(admin.client.post("/households/999999/access-code"), 404)


def test_adding_and_deleting_a_household_with_its_data(admin: Admin) -> None:
    created = admin.client.post(
        f"/contests/{SLUG}/households",
        json={"pseudonym": "Kranich", "persons": 2, "team": "Nordviertel", "meters": [{"id": "K-1"}]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["meters"] == ["K-1"] and created.json()["access_code"]
    _error(admin.client.post(f"/contests/{SLUG}/households", json={"pseudonym": "X", "persons": 99}), 400)
    _error(
        admin.client.post(f"/contests/{SLUG}/households", json={"pseudonym": "X", "meters": [{"id": "A"}]}),
        400,
    )

    ids = admin.ids()
    assert readback.count_readings(admin.db, "D") > 0
    deleted = admin.client.delete(f"/households/{ids['Dachs']}")
    assert deleted.status_code == 204, deleted.text
    assert "Dachs" not in admin.ids()
    assert readback.count_readings(admin.db, "D") == 0
    _error(admin.client.get(f"/households/{ids['Dachs']}"), 404)
    _error(admin.client.delete(f"/households/{ids['Dachs']}"), 404)
    assert admin.client.get(f"/contests/{SLUG}").json()["households"] == 5  # Kranich in, Dachs out


def test_adding_a_household_that_exists_is_refused_and_changes_nothing(admin: Admin) -> None:
    amsel = admin.ids()["Amsel"]
    code = admin.client.post(f"/households/{amsel}/access-code").json()["access_code"]
    admin.client.patch(f"/households/{amsel}", json={"living_area_m2": 80.0, "building_type": "house"})
    before = admin.client.get(f"/households/{amsel}").json()

    again = admin.client.post(
        f"/contests/{SLUG}/households",
        json={"pseudonym": "Amsel", "persons": 5, "public": False, "meters": [{"id": "A-2"}]},
    )
    refused = _error(again, 409)
    assert refused["error"] == "household.pseudonym_taken"
    assert "'Amsel'" in refused["detail"] and "access-code" in refused["detail"]
    assert "access_code" not in refused
    assert admin.client.get(f"/households/{amsel}").json() == before
    assert (before["persons"], before["public"], before["living_area_m2"]) == (2, True, 80.0)
    assert before["building_type"] == "house" and before["meters"] == ["A"]
    with admin.db.session() as session:
        assert HouseholdService(session).authenticate(code).id == amsel  # the code given out still works
    assert len(admin.ids()) == 5


def test_an_unknown_team_is_refused_with_the_known_teams_unless_create_team(admin: Admin) -> None:
    admin.client.post(f"/contests/{SLUG}/teams", json={"name": "Südstadt"})
    path = f"/contests/{SLUG}/households"
    typo = _error(admin.client.post(path, json={"pseudonym": "Kranich", "team": "Nordvirtel"}), 400)
    assert typo["error"] == "household.unknown_team"
    assert "'Nordvirtel'" in typo["detail"] and "'Nordviertel', 'Südstadt'" in typo["detail"]
    assert "Kranich" not in admin.ids()
    created = admin.client.post(path, json={"pseudonym": "Kranich", "team": "Westend", "create_team": True})
    assert created.status_code == 201, created.text
    assert admin.client.get(f"/households/{created.json()['household_id']}").json()["team"] == "Westend"

    # The same rule when staff move a household to a team.
    elster = admin.ids()["Elster"]
    moved = _error(admin.client.patch(f"/households/{elster}", json={"team": "Ostend"}), 400)
    assert "'Nordviertel', 'Südstadt', 'Westend'" in moved["detail"]
    assert admin.client.get(f"/households/{elster}").json()["team"] is None
    founded = admin.client.patch(f"/households/{elster}", json={"team": "Ostend", "create_team": True})
    assert founded.status_code == 200 and founded.json()["team"] == "Ostend"
    teams = [t["name"] for t in admin.client.get(f"/contests/{SLUG}/teams").json()]
    assert teams == ["Nordviertel", "Südstadt", "Westend", "Ostend"]


def test_a_contest_posted_again_keeps_household_facts_it_does_not_state(admin: Admin) -> None:
    ids = admin.ids()
    admin.client.patch(
        f"/households/{ids['Amsel']}", json={"persons": 3, "public": False, "living_area_m2": 70.0}
    )
    config = admin.client.get(f"/contests/{SLUG}/config").json()
    for household in config["households"]:
        for key in ("persons", "public", "team", "living_area_m2"):
            household.pop(key, None)
    config["households"].append({"pseudonym": "Kranich", "meters": [{"id": "K-1"}]})
    posted = admin.client.post("/contests", json=config)
    assert posted.status_code == 201, posted.text
    listed = {h["pseudonym"]: h for h in admin.client.get(f"/contests/{SLUG}/households").json()}
    amsel = listed["Amsel"]
    assert (amsel["persons"], amsel["public"], amsel["living_area_m2"]) == (3, False, 70.0)
    assert amsel["team"] == "Nordviertel"
    assert (listed["Biene"]["persons"], listed["Biene"]["public"]) == (4, True)
    kranich = listed["Kranich"]  # new: the defaults
    assert (kranich["persons"], kranich["public"], kranich["team"]) == (1, False, None)
    config["households"][0]["persons"] = 51
    assert "between 1 and 50" in _error(admin.client.post("/contests", json=config), 400)["detail"]


# --- meters and device bindings ---------------------------------------------------------------------
def test_meters_are_added_and_replaced(admin: Admin) -> None:
    ids = admin.ids()
    meters = admin.client.get(f"/households/{ids['Amsel']}/meters").json()
    assert [m["id"] for m in meters] == ["A"]
    assert meters[0]["kind"] == "register" and meters[0]["last_reading_utc"] == "2026-01-20T23:00:00Z"

    added = admin.client.post(f"/households/{ids['Amsel']}/meters", json={"id": "A-WP", "kind": "interval"})
    assert added.status_code == 201, added.text
    assert added.json()["carrier"] == "electricity"  # the contest's
    _error(admin.client.post(f"/households/{ids['Biene']}/meters", json={"id": "A-WP"}), 409)
    _error(admin.client.post(f"/households/{ids['Amsel']}/meters", json={"id": "X", "kind": "daily"}), 400)
    _error(admin.client.post("/households/999999/meters", json={"id": "X"}), 404)

    swap = {"new_id": "A-NEU", "at": "2026-01-21T00:00:00+01:00", "new_initial_kwh": 0.0}
    _error(admin.client.post("/meters/A/replace", json={**swap, "at": "2026-01-21T00:00:00"}), 400)
    _error(admin.client.post("/meters/A/replace", json={**swap, "new_id": "B"}), 400)  # in use
    _error(admin.client.post("/meters/NO-SUCH/replace", json=swap), 404)
    replaced = admin.client.post("/meters/A/replace", json=swap)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["replaces"] == "A" and replaced.json()["valid_from"] == "2026-01-20T23:00:00Z"
    _error(admin.client.post("/meters/A/replace", json={**swap, "new_id": "A-NEU2"}), 400)  # replaced
    meters = {m["id"]: m for m in admin.client.get(f"/households/{ids['Amsel']}/meters").json()}
    assert set(meters) == {"A", "A-WP", "A-NEU"}
    assert meters["A"]["valid_to"] == "2026-01-20T23:00:00Z"
    assert admin.client.get(f"/households/{ids['Amsel']}").json()["meters"] == ["A", "A-WP", "A-NEU"]


def test_a_device_is_bound_listed_and_unbound_and_its_messages_are_then_rejected(admin: Admin) -> None:
    bound = admin.client.post("/meters/E/bindings", json={"device": "zaehler-e"})
    assert bound.status_code == 201, bound.text
    assert (bound.json()["meter"], bound.json()["channel"], bound.json()["contest"]) == ("E", "*", SLUG)
    assert [b["device"] for b in admin.client.get("/bindings", params={"contest": SLUG}).json()] == [
        "zaehler-e"
    ]
    assert [b["device"] for b in admin.client.get("/meters/E/bindings").json()] == ["zaehler-e"]
    ids = admin.ids()
    assert admin.client.get(f"/households/{ids['Elster']}/meters").json()[0]["bindings"][0]["device"] == (
        "zaehler-e"
    )

    # The ingest worker's writer (no broker needed: it is called directly) stores the bound device's reading.
    def deliver(value_kwh: float) -> None:
        payload = json.dumps({"meter": "zaehler-e", "value": value_kwh, "unit": "kWh"}).encode()
        now = dt.datetime.now(dt.UTC)
        MqttWorker(admin.db, MqttSettings(port=1)).write_batch(
            [Message("contest/zaehler-e/reading", payload, 1, 0, now)]
        )

    before = readback.count_readings(admin.db, "E")
    deliver(500.0)
    assert readback.count_readings(admin.db, "E") == before + 1

    unbound = admin.client.delete("/meters/E/bindings", params={"device": "zaehler-e"})
    assert unbound.status_code == 204, unbound.text
    assert admin.client.get("/meters/E/bindings").json() == []
    deliver(501.0)
    assert readback.count_readings(admin.db, "E") == before + 1
    rejected = admin.client.get("/rejected", params={"source": "mqtt", "key": "mqtt.unbound_device"}).json()
    assert len(rejected) == 1 and rejected[0]["topic"] == "contest/zaehler-e/reading"
    assert "501.0" in rejected[0]["raw"]

    _error(admin.client.delete("/meters/E/bindings", params={"device": "zaehler-e"}), 404)
    _error(admin.client.delete("/meters/E/bindings"), 400)  # which device?
    _error(admin.client.delete("/meters/NO-SUCH/bindings", params={"device": "x"}), 404)
    _error(admin.client.post("/meters/NO-SUCH/bindings", json={"device": "x"}), 404)
    _error(admin.client.post("/meters/E/bindings", json={"device": ""}), 400)
    _error(admin.client.get("/meters/NO-SUCH/bindings"), 404)
    _error(admin.client.get("/bindings", params={"contest": "no-such-contest"}), 404)


def test_staff_see_each_meters_last_message_rejections_and_devices_without_a_binding(admin: Admin) -> None:
    """A device's register is its own series: binding a reader to a meter with uploaded readings starts
    one; staff then see per meter its series, its last message and today's rejections, and which
    devices publish without a binding."""
    now = dt.datetime.now(dt.UTC)
    worker = MqttWorker(admin.db, MqttSettings(port=1))

    def deliver(device: str, value_kwh: float, ts: dt.datetime | None = None) -> None:
        body: dict[str, Any] = {"meter": device, "value": value_kwh, "unit": "kWh"}
        if ts is not None:
            body["ts"] = ts.isoformat()
        topic = f"contest/{device}/reading"
        worker.write_batch([Message(topic, json.dumps(body).encode(), 1, 0, dt.datetime.now(dt.UTC))])

    deliver("lesekopf-e", 7.5)  # published before staff bound it: kept as unbound
    deliver("fremd", 1.0)  # a device no one bound
    assert {d["device"] for d in admin.client.get("/devices/unbound").json()} == {"lesekopf-e", "fremd"}

    bound = admin.client.post("/meters/E/bindings", json={"device": "lesekopf-e", "unit": "kWh"})
    assert bound.status_code == 201, bound.text
    assert bound.json()["unit"] == "kWh"
    (last,) = bound.json()["last_seen"]  # what it sent before the binding, and why it was not stored
    assert (last["topic"], last["energy_kwh"], last["rejection_key"]) == (
        "contest/lesekopf-e/reading",
        7.5,
        "mqtt.unbound_device",
    )
    assert [d["device"] for d in admin.client.get("/devices/unbound").json()] == ["fremd"]

    worker = MqttWorker(admin.db, MqttSettings(port=1))  # rereads the bindings
    deliver("lesekopf-e", 8.0)  # far below the display's uploaded readings: its own series, stored
    deliver("lesekopf-e", 9.0, now + dt.timedelta(days=3))  # the device clock is off: rejected
    ids = admin.ids()
    (meter,) = admin.client.get(f"/households/{ids['Elster']}/meters").json()
    assert meter["rejected_messages_24h"] == 1
    message = meter["last_message"]
    assert message["device"] == "lesekopf-e" and message["rejection_key"] == "mqtt.future_timestamp"
    assert message["energy_kwh"] == 9.0 and message["received_at"] >= now.isoformat()[:19]
    assert [(s["ends_at"] is None, s["device"]) for s in meter["series"]] == [
        (False, None),
        (True, "lesekopf-e"),
    ]
    assert meter["series"][1]["starts_at"] == meter["series"][0]["ends_at"]
    assert readback.count_readings(admin.db, "E") == len(DAYS) + 2
    seen = admin.client.get("/devices/last-seen", params={"device": "lesekopf-e"}).json()
    assert [(m["channel"], m["meter"]) for m in seen] == [("1.8.0", "E")]
    assert admin.client.get("/devices/last-seen", params={"device": "nie-gesehen"}).json() == []
    _error(admin.client.post("/meters/E/bindings", json={"device": "x", "unit": "W"}), 400)
    _error(admin.client.post("/meters/E/bindings", json={"device": "zweiter-leser"}), 400)  # one reader


# --- findings, snapshots, the rejected-records store ------------------------------------------------
def test_plausibility_flags_of_the_latest_scoring_come_with_their_evidence(
    admin: Admin, tmp_path: Path
) -> None:
    config = admin.client.get(f"/contests/{SLUG}/config").json()
    config["scoring"]["plausibility"] = {"min_baseline_days": 5}  # the fixture has 10 baseline days
    assert admin.client.post("/contests", json=config).status_code == 201
    added = admin.client.post(
        f"/contests/{SLUG}/households", json={"pseudonym": "Zaunkönig", "meters": [{"id": "Z"}]}
    )
    assert added.status_code == 201, added.text
    # Ten normal baseline days, three normal competition days, then the meter stands still.
    path = tmp_path / "z.csv"
    path.write_text(_register_csv([10.0] * 13 + [0.0] * 7), encoding="utf-8")
    CsvImporter(admin.db).import_file(path, "Z")

    snapshot = admin.client.post(f"/contests/{SLUG}/publish").json()
    report = admin.client.get(f"/contests/{SLUG}/findings").json()
    assert report["snapshot_id"] == snapshot["id"] and report["kind"] == "plausibility"
    assert report["as_of"] == "2026-01-20T23:00:00Z"
    drops = [f for f in report["findings"] if f["key"] == "scoring.drop_to_zero"]
    assert len(drops) == 1 and all(f["plausibility"] for f in report["findings"])
    drop = drops[0]
    assert drop["pseudonym"] == "Zaunkönig" and drop["household_id"] == added.json()["household_id"]
    assert drop["data"]["first_day"] == "2026-01-14" and drop["data"]["days"] == 7
    assert drop["data"]["before_kwh"] == pytest.approx(10.0)

    everything = admin.client.get(f"/contests/{SLUG}/findings", params={"kind": "all"}).json()
    keys = {(f["key"], f["pseudonym"]) for f in everything["findings"]}
    assert ("scoring.insufficient_coverage", "Dachs") in keys and (
        "scoring.drop_to_zero",
        "Zaunkönig",
    ) in keys
    # They were stored with the snapshot for the staff; the public leaderboard holds only their count.
    with admin.db.session() as session:
        body = session.get(LeaderboardSnapshot, snapshot["id"]).body  # type: ignore[union-attr]
    assert len(body["staff_findings"]) == len(everything["findings"]) == body["findings_count"]
    with TestClient(create_app(admin.db)) as public:
        assert "drop_to_zero" not in public.get(f"/api/contests/{SLUG}/leaderboard").text
    _error(admin.client.get(f"/contests/{SLUG}/findings", params={"kind": "some"}), 400)
    _error(admin.client.get("/contests/no-such-contest/findings"), 404)


def test_published_snapshots_are_listed_newest_first(admin: Admin) -> None:
    assert admin.client.get(f"/contests/{SLUG}/snapshots").json() == []
    first = admin.client.post(f"/contests/{SLUG}/publish").json()
    second = admin.client.post(f"/contests/{SLUG}/publish").json()
    listed = admin.client.get(f"/contests/{SLUG}/snapshots").json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert listed[0]["reason"] == "manual" and listed[0]["final"] is False
    assert listed[0]["as_of"] == "2026-01-20T23:00:00Z"
    assert [s["id"] for s in admin.client.get(f"/contests/{SLUG}/snapshots", params={"limit": 1}).json()] == [
        second["id"]
    ]
    _error(admin.client.get(f"/contests/{SLUG}/snapshots", params={"limit": 0}), 400)
    _error(admin.client.get("/contests/no-such-contest/snapshots"), 404)
    _error(admin.client.post("/contests/no-such-contest/publish"), 404)
    results = admin.client.get(f"/contests/{SLUG}/results.csv")
    assert results.status_code == 200 and "Chamäleon" in results.content.decode("utf-8-sig")
    assert results.headers["content-type"] == "text/csv; charset=utf-8"  # once, not twice


def test_the_rejected_records_store_is_filtered_by_source_meter_and_contest(
    admin: Admin, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Datum;Zählerstand (kWh)\n21.01.2026 00:00;abc\n22.01.2026 00:00;4.600,00\n", encoding="utf-8"
    )
    CsvImporter(admin.db).import_file(bad, "A")
    rows = admin.client.get("/rejected", params={"source": "csv", "meter": "A"}).json()
    assert len(rows) == 1
    assert rows[0]["line_no"] == 2 and rows[0]["meter"] == "A" and "abc" in rows[0]["raw"]
    assert rows[0]["reason"] and rows[0]["key"]
    assert [r["id"] for r in admin.client.get("/rejected", params={"contest": SLUG}).json()] == [
        rows[0]["id"]
    ]
    assert admin.client.get("/rejected", params={"meter": "B"}).json() == []
    assert admin.client.get("/rejected", params={"before_id": rows[0]["id"]}).json() == []
    _error(admin.client.get("/rejected", params={"source": "ftp"}), 400)
    _error(admin.client.get("/rejected", params={"limit": 5000}), 400)
    _error(admin.client.get("/rejected", params={"contest": "no-such-contest"}), 404)


def test_every_admin_endpoint_is_in_the_openapi_schema_with_typed_shapes(admin: Admin) -> None:
    spec = httpx.get(f"{admin.url}/schema/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/admin/contests/{slug}": ["get"],
        "/api/admin/contests/{slug}/config": ["get"],
        "/api/admin/contests/{slug}/rules": ["get", "put"],
        "/api/admin/contests/{slug}/teams": ["get", "post"],
        "/api/admin/contests/{slug}/teams/{team_id}": ["patch"],
        "/api/admin/contests/{slug}/households": ["get", "post"],
        "/api/admin/households/{household_id}": ["get", "patch", "delete"],
        "/api/admin/households/{household_id}/access-code": ["post"],
        "/api/admin/households/{household_id}/meters": ["get", "post"],
        "/api/admin/meters/{meter}/replace": ["post"],
        "/api/admin/meters/{meter}/bindings": ["get", "post", "delete"],
        "/api/admin/bindings": ["get"],
        "/api/admin/devices/unbound": ["get"],
        "/api/admin/devices/last-seen": ["get"],
        "/api/admin/contests/{slug}/findings": ["get"],
        "/api/admin/contests/{slug}/snapshots": ["get"],
        "/api/admin/rejected": ["get"],
    }
    for path, methods in expected.items():
        for method in methods:
            operation = paths[path][method]
            assert operation["security"] == [{"StaffToken": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
    schemas = spec["components"]["schemas"]
    for name in (
        "HouseholdPatch",
        "HouseholdItem",
        "MeterItem",
        "FindingsOut",
        "SnapshotOut",
        "RejectedItem",
        "ContestRules",
        "ScoringChoices",
    ):
        assert name in schemas, name
    # The rules have a real schema (bounds and descriptions), not a free-form object.
    coverage = schemas["ScoringChoices"]["properties"]["min_coverage_fraction"]
    assert (coverage["exclusiveMinimum"], coverage["maximum"], coverage["default"]) == (0.0, 1.0, 0.8)
    assert "prior_year_same_period" in schemas["ScoringChoices"]["properties"]["method"]["description"]
    assert "404" in paths["/api/admin/households/{household_id}"]["patch"]["responses"]
    assert "/admin" not in paths  # the page is not part of the API
