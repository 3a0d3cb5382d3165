"""`contest demo` shows a newcomer a whole season: an announced, a running, a final and an archived
contest on the index page, and an access code to try the portal with in each of the first three."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.demo import generate_demo_season, last_winter
from cli.main import app
from contest.db import Database
from contest.households import HouseholdService
from contest.season import SeasonService
from contest.settings import WebSettings
from ingest.importer import CsvImporter
from tests.integration.test_portal import Portal
from tests.servers import live_server
from web.app import create_app


def test_the_winter_of_a_final_contest_is_the_latest_one_whose_grace_period_is_over() -> None:
    # The grace period (14 days) of the winter 2025/26 ends on 14 March 2026: final from the 15th.
    assert last_winter(dt.date(2026, 3, 14)) == (dt.date(2024, 12, 1), dt.date(2025, 2, 28))
    assert last_winter(dt.date(2026, 3, 15)) == (dt.date(2025, 12, 1), dt.date(2026, 2, 28))
    assert last_winter(dt.date(2026, 11, 29)) == (dt.date(2025, 12, 1), dt.date(2026, 2, 28))


def test_the_demo_contests_are_dated_for_their_states(tmp_path: Path) -> None:
    today = dt.date(2026, 11, 29)
    contests = generate_demo_season(tmp_path, today=today, households=12, teams=3)
    by_state = {c.state: c for c in contests}
    assert list(by_state) == ["running", "announced", "final", "archived"]
    assert by_state["running"].slug == "demo" and len(by_state["running"].households) == 12
    # Announced: some households uploaded their baseline, some have yet to (their files are there).
    announced = by_state["announced"].households
    assert 0 < sum(h.uploaded for h in announced) < len(announced)
    assert all(h.csv_path.exists() for c in contests for h in c.households)
    # Meter ids are unique across the contests (they are unique in the database).
    meters = [h.meter_id for c in contests for h in c.households]
    assert len(set(meters)) == len(meters)


@pytest.fixture
def demo_db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, str, Path]:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path / "demo"), "--households", "18", "--teams", "3", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    return Database(db_url), result.output, tmp_path / "demo"


def _code(output: str, state: str) -> tuple[str, str]:
    """The pseudonym and access code the demo printed for its ``state`` contest."""
    found = re.search(rf"^  {state} +'([^']+)' with the access code (\S+)", output, re.MULTILINE)
    assert found is not None, output
    return found[1], found[2]


def test_the_demo_has_a_contest_in_every_public_state_on_the_index_page(
    demo_db: tuple[Database, str, Path],
) -> None:
    db, output, _ = demo_db
    states = {s.slug: s.state for s in SeasonService(db).all()}
    assert states == {
        "demo": "running",
        "demo-next": "announced",
        "demo-last-winter": "final",
        "demo-winter-before": "archived",
    }
    for slug, state in states.items():  # the CLI names each with its state and URL
        assert re.search(rf"^  {state} +.*: http://\S+/contests/{slug} ", output, re.MULTILINE), output
    app_ = create_app(db, WebSettings(secret_key="demo-test"))
    with live_server(app_) as url:
        portal = Portal(url)
        index = portal.client.get("/").text
        items = {
            m[2]: m[1] for m in re.finditer(r'<li data-state="(\w+)"><a href="/contests/([\w-]+)', index)
        }
        assert items == states
        # The announced contest counts the households that uploaded their baseline already.
        announced = portal.client.get("/contests/demo-next").text
        ready = re.search(
            r"with enough baseline data</dt><dd>(\d+)<|im Vergleichszeitraum</dt><dd>(\d+)<", announced
        )
        assert ready is not None and int(ready[1] or ready[2]) > 0, announced
        # The final one shows its winners, on its page and on the index.
        final = portal.client.get("/contests/demo-last-winter").text
        assert 'id="winners"' in final and 'data-state="final"' in final
        assert index.count('class="winners"') == 2  # final and archived
    db.dispose()


def test_the_demo_codes_sign_in_to_try_each_contest(demo_db: tuple[Database, str, Path]) -> None:
    db, output, directory = demo_db
    with db.session() as session:
        households = HouseholdService(session)
        for state, slug in (("running", "demo"), ("announced", "demo-next"), ("final", "demo-last-winter")):
            pseudonym, code = _code(output, state)
            signed_in = households.authenticate(code)
            assert (signed_in.contest_slug, signed_in.pseudonym) == (slug, pseudonym)
    web = WebSettings(secret_key="demo-test", upload_dir=str(directory / "uploads"))
    with live_server(create_app(db, web, importer=CsvImporter(db))) as url:
        # Announced: the household has no data yet and can upload the file the demo names.
        waiting = Portal(url)
        waiting.login(_code(output, "announced")[1])
        named = re.search(r"upload its baseline file (\S+) before the start", output)
        assert named is not None, output
        file = Path(named[1])
        preview = waiting.upload(file.stem, file.name, file.read_bytes())  # the file is named by its meter
        assert preview.status_code == 200, preview.text[:3000]
        token = preview.text.split("/portal/upload/")[1].split("/confirm")[0]
        report = waiting.post(f"/portal/upload/{token}/confirm")
        stored = re.search(r'id="stored">(\d+)<', report.text)
        assert report.status_code == 200 and stored is not None and int(stored[1]) > 300, report.text[:3000]
        # Final: the winner downloads its certificate.
        winner = Portal(url)
        winner.login(_code(output, "final")[1])
        certificate = winner.client.get("/portal/certificate.pdf")
        assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")
    db.dispose()
