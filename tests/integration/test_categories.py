"""Category rankings (issue #5): a contest chooses ``category_by = "household_size"`` in its file; each
size class gets its own ranking, carried through the published snapshot to the JSON API (filtered with
``?category=``) and the public page (category links, a category table, per-m² figures); snapshots
published before categories still load.

The contest below is the hand-computed one. Baseline 1-10 Jan 2026, competition from 11 Jan, scored as
of 21 Jan 00:00 (Berlin): ten complete competition days, so expected = 10 x baseline/day.

    household  persons class public  baseline/day comp/day  expected actual savings fraction  area  per m²
    Ahorn         1      1    yes       10.0        9.0        100      90      10     0.10     50    0.2
    Birke         1      1    yes        8.0        6.0         80      60      20     0.25     40    0.5
    Eiche         1      1    no        12.0       10.2        120     102      18     0.15     60    0.3
    Esche         2      2    yes       10.0        8.5        100      85      15     0.15     75    0.2
    Linde         2      2    yes       10.0       11.0        100     110     -10    -0.10      -      -
    Weide         3      3    yes       10.0        5.0   data on 4 of 10 competition days: not ranked
    Buche         5      5+   yes       20.0       16.0        200     160      40     0.20    120    1/3
    Ulme          6      5+   yes       20.0       19.0        200     190      10     0.05    140    1/14

Overall ranks (equal shown fractions share a rank): Birke 1, Buche 2, Eiche 3, Esche 3, Ahorn 5, Ulme 6,
Linde 7, Weide none. Ranks within the class (every participant counts, listed or not):
class 1: Birke 1, Eiche 2, Ahorn 3; class 2: Esche 1, Linde 2; class 3: Weide none; class 5+: Buche 1,
Ulme 2. There is no household of 4 persons, so the listed classes are 1, 2, 3 and 5+.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from contest.config import parse_contest_config, read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.errors import ConfigError
from contest.leaderboards import LeaderboardService
from contest.models import LeaderboardSnapshot
from contest.publishing import PublishingService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, english_hourly, german_register
from web.app import create_app

SLUG = "klassen-2026"

# pseudonym: (persons, public, baseline/day, competition/day, living area [m²] or None)
HOUSEHOLDS: dict[str, tuple[int, bool, float, float, float | None]] = {
    "Ahorn": (1, True, 10.0, 9.0, 50.0),
    "Birke": (1, True, 8.0, 6.0, 40.0),
    "Eiche": (1, False, 12.0, 10.2, 60.0),
    "Esche": (2, True, 10.0, 8.5, 75.0),
    "Linde": (2, True, 10.0, 11.0, None),
    "Weide": (3, True, 10.0, 5.0, None),
    "Buche": (5, True, 20.0, 16.0, 120.0),
    "Ulme": (6, True, 20.0, 19.0, 140.0),
}

# From the table in the module docstring: pseudonym -> (class, rank in class, overall rank, kWh/m²).
EXPECTED: dict[str, tuple[str, int | None, int | None, float | None]] = {
    "Birke": ("1", 1, 1, 20 / 40),
    "Buche": ("5+", 1, 2, 40 / 120),
    "Eiche": ("1", 2, 3, 18 / 60),
    "Esche": ("2", 1, 3, 15 / 75),
    "Ahorn": ("1", 3, 5, 10 / 50),
    "Ulme": ("5+", 2, 6, 10 / 140),
    "Linde": ("2", 2, 7, None),
    "Weide": ("3", None, None, None),
}
LISTED_CLASSES = ["1", "2", "3", "5+"]


def contest_toml(category_by: str = "household_size") -> str:
    lines = [
        "[contest]",
        f'slug = "{SLUG}"',
        'name = "Klassenwettbewerb 2026"',
        'timezone = "Europe/Berlin"',
        "baseline = { start = 2026-01-01, end = 2026-01-10 }",
        "competition = { start = 2026-01-11, end = 2026-01-31 }",
        "",
        "[scoring]",
        "min_coverage_fraction = 0.8",
        f'category_by = "{category_by}"',
        "",
    ]
    for name, (persons, public, _base, _comp, area) in HOUSEHOLDS.items():
        kind = "interval" if name == "Weide" else "register"
        lines += [
            "[[households]]",
            f'pseudonym = "{name}"',
            f"persons = {persons}",
            f"public = {'true' if public else 'false'}",
            *([f"living_area_m2 = {area}"] if area is not None else []),
            f'meters = [{{ id = "M-{name}", kind = "{kind}" }}]',
            "",
        ]
    return "\n".join(lines)


def build_contest(db: Database, directory: Path) -> Database:
    """Set up the contest of the table and import every household's CSV file."""
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(contest_toml()))
    for i, (name, (_p, _pub, base, comp, _area)) in enumerate(HOUSEHOLDS.items()):
        path = directory / f"{name}.csv"
        if name == "Weide":
            text = english_hourly(base, comp, skip_days=set(range(14, 20)))
        else:
            text = german_register(base, comp, start=1000.0 * (i + 1))
        path.write_text(text, encoding="utf-8")
        CsvImporter(db).import_file(path, f"M-{name}")
    return db


@pytest.fixture
def contest_db(db: Database, tmp_path: Path) -> Database:
    return build_contest(db, tmp_path)


@pytest.fixture
def publishing(contest_db: Database) -> Iterator[PublishingService]:
    service = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)
    yield service
    service.close()


# --- the contest setting ----------------------------------------------------------------------------
def test_category_by_household_size_is_a_contest_setting() -> None:
    cfg = parse_contest_config(contest_toml())
    assert cfg.rules.scoring.category_by == "household_size"
    assert cfg.scoring_rules().category_by == "household_size"
    with pytest.raises(ConfigError) as info:
        parse_contest_config(contest_toml(category_by="income"))
    assert "category_by must be one of" in str(info.value)
    # The README's example contest file shows the setting, and it parses.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.+?)\n```", readme, flags=re.S)
    assert example is not None
    assert parse_contest_config(example.group(1)).rules.scoring.category_by == "household_size"


def test_the_demo_contest_ranks_by_household_size_and_has_living_areas(tmp_path: Path) -> None:
    from cli.demo import generate_demo

    demo = generate_demo(tmp_path / "demo", households=8, teams=2)
    cfg = read_contest_config(demo.toml_path)
    assert cfg.rules.scoring.category_by == "household_size"
    assert all(h.living_area_m2 is not None and h.living_area_m2 > 0 for h in cfg.households)


# --- scoring through the snapshot -------------------------------------------------------------------
def test_category_ranks_of_the_published_snapshot_are_the_hand_computed_ones(
    contest_db: Database, publishing: PublishingService
) -> None:
    publishing.publish(SLUG)
    view = publishing.latest(SLUG)  # read back from the stored snapshot body, not from the scorer
    got = {h.pseudonym: (h.category, h.category_rank, h.rank, h.savings_kwh_per_m2) for h in view.households}
    listed = {name: e for name, e in EXPECTED.items() if HOUSEHOLDS[name][1]}
    assert got.keys() == listed.keys()  # privacy: Eiche (not public) is not in the public view
    for name, (category, category_rank, rank, per_m2) in listed.items():
        assert got[name][:3] == (category, category_rank, rank), name
        assert got[name][3] == (pytest.approx(per_m2) if per_m2 is not None else None), name
    assert list(view.categories) == LISTED_CLASSES
    assert view.has_living_areas
    assert [h.pseudonym for h in view.in_category("1")] == ["Birke", "Ahorn"]
    # The private household keeps its class rank on the server (its own portal page).
    with contest_db.session() as session:
        staff = LeaderboardService(session).leaderboard(SLUG, AS_OF, public_only=False)
    eiche = next(h for h in staff.households if h.pseudonym == "Eiche")
    own = publishing.standing(SLUG, eiche.household_id)
    assert own is not None and (own.category, own.category_rank) == ("1", 2)


def test_a_snapshot_published_before_categories_still_loads(
    contest_db: Database, publishing: PublishingService
) -> None:
    """A body stored by the version before categories has no category, category_rank or per-m² keys."""
    info = publishing.publish(SLUG)
    new_fields = ("category", "category_rank", "savings_kwh_per_m2")
    with contest_db.session() as session:
        snap = session.get(LeaderboardSnapshot, info.id)
        assert snap is not None
        body = dict(snap.body)
        for key in ("households", "all_households"):
            body[key] = [{k: v for k, v in h.items() if k not in new_fields} for h in body[key]]
        snap.body = body
    reader = PublishingService(contest_db, clock=lambda: AS_OF, cache_ttl_s=0.0)  # nothing cached yet
    try:
        view = reader.latest(SLUG)
        assert len(view.households) == 7
        assert all(h.category is None and h.category_rank is None for h in view.households)
        assert all(h.savings_kwh_per_m2 is None for h in view.households)
        assert view.categories == () and not view.has_living_areas
        assert reader.standing(SLUG, view.households[0].household_id) is not None
        with TestClient(create_app(contest_db, clock=lambda: AS_OF, publishing=reader)) as client:
            body = client.get(f"/api/contests/{SLUG}/leaderboard").json()
            assert body["categories"] == [] and body["households_total"] == 7
            assert body["households"][0]["category"] is None
            html = client.get(f"/contests/{SLUG}").text
            assert 'id="categories"' not in html and "kWh/m²" not in html
            assert _table_rows(html)[0][:2] == ["1", "Birke"]
    finally:
        reader.close()


# --- JSON API ---------------------------------------------------------------------------------------
def test_the_api_filters_households_by_category(contest_db: Database, publishing: PublishingService) -> None:
    url = f"/api/contests/{SLUG}/leaderboard"
    with TestClient(create_app(contest_db, clock=lambda: AS_OF, publishing=publishing)) as client:
        everyone = client.get(url).json()
        assert everyone["households_total"] == 7 and everyone["category"] is None
        assert everyone["categories"] == LISTED_CLASSES
        birke = everyone["households"][0]
        assert (birke["pseudonym"], birke["category"], birke["category_rank"]) == ("Birke", "1", 1)
        assert birke["savings_kwh_per_m2"] == pytest.approx(0.5)

        ones = client.get(url, params={"category": "1"})
        body = ones.json()
        assert body["category"] == "1" and body["households_total"] == 2
        assert [(h["pseudonym"], h["category_rank"], h["rank"]) for h in body["households"]] == [
            ("Birke", 1, 1),
            ("Ahorn", 3, 5),  # Eiche (not public) holds class rank 2
        ]
        assert ones.headers["etag"] != client.get(url).headers["etag"]
        assert (
            client.get(
                url, params={"category": "1"}, headers={"If-None-Match": ones.headers["etag"]}
            ).status_code
            == 304
        )

        page = client.get(url, params={"category": "1", "offset": 1, "limit": 1}).json()
        assert [h["pseudonym"] for h in page["households"]] == ["Ahorn"] and page["households_total"] == 2

        big = client.get(url, params={"category": "5+"}).json()  # sent encoded: category=5%2B
        assert [h["pseudonym"] for h in big["households"]] == ["Buche", "Ulme"]
        raw_plus = client.get(url + "?category=5+").json()  # an unencoded "+" arrives as a space
        assert raw_plus["category"] == "5+" and raw_plus["households_total"] == 2

        unranked = client.get(url, params={"category": "3"}).json()
        assert [(h["pseudonym"], h["category_rank"], h["status"]) for h in unranked["households"]] == [
            ("Weide", None, "insufficient_data")
        ]
        nobody = client.get(url, params={"category": "4"})  # no household of 4 persons
        assert nobody.status_code == 200
        assert nobody.json()["households"] == [] and nobody.json()["households_total"] == 0
        odd = client.get(url, params={"category": 'x"\u00e4'})  # the ETag never carries the text
        assert odd.status_code == 200 and "-cx-" in odd.headers["etag"]


# --- the public page --------------------------------------------------------------------------------
class _Tables(HTMLParser):
    """Cell texts of the rows of ``#households`` tbody, its caption, and the category links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self.links: list[tuple[str, str, bool]] = []  # (text, href, current)
        self._where: list[str] = []
        self._in_table = self._in_nav = False
        self._link: tuple[str, bool] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == "households":
            self._in_table = True
        if tag == "nav" and a.get("id") == "categories":
            self._in_nav = True
        if self._in_table and tag == "tr":
            self.rows.append([])
        if self._in_table and tag in ("td", "th", "caption"):
            self._text = ""
        if self._in_nav and tag == "a":
            self._link = (a.get("href") or "", a.get("aria-current") == "page")
            self._text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        if tag == "nav":
            self._in_nav = False
        if self._in_table and tag in ("td", "th") and self.rows:
            self.rows[-1].append(" ".join(self._text.split()))
        if self._in_table and tag == "caption":
            self.caption = " ".join(self._text.split())
        if self._in_nav and tag == "a" and self._link:
            self.links.append((self._text.strip(), *self._link))
            self._link = None

    def handle_data(self, data: str) -> None:
        self._text += data


def _parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def _table_rows(html: str) -> list[list[str]]:
    return _parse(html).rows[1:]  # without the header row


def test_the_page_shows_category_links_and_the_category_table(
    contest_db: Database, publishing: PublishingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    page_url = f"/contests/{SLUG}"
    with TestClient(create_app(contest_db, clock=lambda: AS_OF, publishing=publishing)) as client:
        html = client.get(page_url).text
        parsed = _parse(html)
        assert parsed.links == [
            ("Alle Haushalte", "?lang=de", True),
            ("1 Person", "?category=1&lang=de", False),
            ("2 Personen", "?category=2&lang=de", False),
            ("3 Personen", "?category=3&lang=de", False),
            ("5+ Personen", "?category=5%2B&lang=de", False),
        ]
        header = parsed.rows[0]
        assert header == [
            "Rang",
            "Haushalt",
            "Team",
            "Einsparung",
            "kWh gespart",
            "kWh/m² gespart",
            "Datenabdeckung",
        ]
        assert parsed.caption == "Alle öffentlich gelisteten Haushalte nach Rang"
        rows = parsed.rows[1:]
        assert [r[:2] for r in rows] == [
            ["1", "Birke"],
            ["2", "Buche"],
            ["3", "Esche"],
            ["5", "Ahorn"],
            ["6", "Ulme"],
            ["7", "Linde"],
            ["–", "Weide"],
        ]
        assert rows[0][5] == "0,50"  # 20 kWh / 40 m²
        assert rows[5][5] == "–"  # Linde gave no living area
        assert re.search(r'<th scope="col" class="rank">Rang</th>', html)

        one = _parse(client.get(page_url, params={"category": "1"}).text)
        assert one.caption == "Haushalte mit 1 Person nach Rang in ihrer Größenklasse"
        assert one.rows[0][:3] == ["Rang", "Gesamtrang", "Haushalt"]
        assert [r[:3] for r in one.rows[1:]] == [["1", "1", "Birke"], ["3", "5", "Ahorn"]]
        assert [link[0] for link in one.links if link[2]] == ["1 Person"]

        big = _parse(client.get(f"{page_url}?category=5%2B&lang=en").text)
        assert big.caption == "Households of 5+ persons by rank within their size class"
        assert [r[:3] for r in big.rows[1:]] == [["1", "2", "Buche"], ["2", "6", "Ulme"]]
        assert [link[0] for link in big.links] == [
            "All households",
            "1 person",
            "2 persons",
            "3 persons",
            "5+ persons",
        ]

        nobody = client.get(page_url, params={"category": "4", "lang": "de"}).text  # the cookie says en
        assert "In dieser Größenklasse möchte noch kein Haushalt öffentlich erscheinen." in nobody

    # Paging keeps the category (one household per page here).
    monkeypatch.setattr("web.controllers.PAGE_SIZE", 1)
    with TestClient(create_app(contest_db, clock=lambda: AS_OF, publishing=publishing)) as client:
        second = client.get(page_url, params={"category": "1", "page": "2"}).text
        assert [r[:3] for r in _table_rows(second)] == [["3", "5", "Ahorn"]]
        assert 'href="?category=1&amp;page=1&amp;lang=de"' in second
        assert 'href="?category=1&amp;lang=en"' in second  # the language switch keeps the category


@pytest.mark.browser
def test_category_rankings_in_chromium_on_a_phone(browser: Any, tmp_path: Path) -> None:
    from tests.servers import live_server

    db = Database(f"sqlite:///{tmp_path / 'categories.sqlite3'}")
    build_contest(db, tmp_path)
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
    try:
        with live_server(create_app(db, clock=lambda: AS_OF)) as url:
            page.goto(f"{url}/contests/{SLUG}", wait_until="load")
            page.click("#categories >> text=5+ Personen")
            page.wait_for_load_state("load")
            assert "category=5%2B" in page.url
            assert page.locator("#households caption").inner_text().startswith("Haushalte mit 5+ Personen")
            names = [r.inner_text() for r in page.locator("#households tbody th").all()]
            assert names == ["Buche", "Ulme"]
            assert page.locator('#categories a[aria-current="page"]').inner_text() == "5+ Personen"
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0  # the links wrap; the table scrolls in its box
            page.click("header .lang")
            page.wait_for_load_state("load")
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator('#categories a[aria-current="page"]').inner_text() == "5+ persons"
    finally:
        context.close()
        db.dispose()
