"""A household's CSV goes in, is normalized, scored against its own baseline and ranked on the public
leaderboard: through the real import path, the real database (SQLite and PostgreSQL) and real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from ingest.importer import CsvImporter
from tests import stored as readback
from tests.integration.contest_fixture import AS_OF, write_contest_files
from tests.servers import live_server
from web.app import create_app


def _setup(db: Database, tmp_path: Path) -> dict[str, Path]:
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    importer = CsvImporter(db)
    for meter in "ABCDE":
        report = importer.import_file(files[meter], meter)
        assert report.rows_rejected == 0, report.first_reasons()
        assert report.rows_stored == report.rows_read
    return files


@pytest.fixture
def contest_db(db: Database, tmp_path: Path) -> Database:
    _setup(db, tmp_path)
    return db


@pytest.fixture
def base_url(contest_db: Database) -> Any:
    with live_server(create_app(contest_db, clock=lambda: AS_OF)) as url:
        yield url


def test_leaderboard_json_ranks_households_and_teams_by_hand_computed_savings(base_url: str) -> None:
    body = httpx.get(f"{base_url}/api/contests/test-2026/leaderboard").json()
    assert body["as_of"].startswith("2026-01-20T23:00:00")  # 21 Jan 00:00 Berlin, in UTC
    assert body["competition_days_elapsed"] == 10
    by_name = {h["pseudonym"]: h for h in body["households"]}
    # C did not opt in to public listing: it is not on the public page (it still counts for its team).
    assert set(by_name) == {"Amsel", "Biene", "Dachs", "Elster"}
    amsel, biene, dachs, elster = (by_name[n] for n in ("Amsel", "Biene", "Dachs", "Elster"))
    assert amsel["savings_fraction"] == pytest.approx((100 - 80) / 100)
    assert amsel["savings_kwh"] == pytest.approx(20.0)
    assert amsel["savings_kwh_per_person"] == pytest.approx(20.0 / 2)
    assert biene["savings_fraction"] == pytest.approx(0.0, abs=1e-9)
    # A and E both saved 20 %: they share rank 1; C (10 %, hidden) is 3; B (0 %) is 4 (1, 1, 3, 4).
    assert (amsel["rank"], elster["rank"], biene["rank"]) == (1, 1, 4)
    assert dachs["status"] == "insufficient_data" and dachs["rank"] is None
    assert dachs["competition_coverage_fraction"] == pytest.approx(4 / 10)
    (team,) = body["teams"]
    assert team["name"] == "Nordviertel" and team["rank"] == 1 and team["ranked_members"] == 3
    # Fractions are published as ranked: rounded to 0.1 percentage point.
    assert team["savings_fraction"] == round((20 + 0 + 11) / (100 + 120 + 110), 3)
    assert team["savings_kwh"] == pytest.approx(20 + 0 + 11)


def test_reimporting_the_same_csv_stores_nothing_new(contest_db: Database, tmp_path: Path) -> None:
    files = write_contest_files(tmp_path / "again")
    before = readback.count_readings(contest_db, "B")
    report = CsvImporter(contest_db).import_file(files["B"], "B")
    assert report.rows_read == before == 20 * 24
    assert (report.rows_stored, report.rows_duplicate, report.rows_rejected) == (0, before, 0)
    assert readback.count_readings(contest_db, "B") == before


def test_bad_rows_are_reported_with_line_numbers_and_the_good_rows_are_stored(
    contest_db: Database, tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "Datum;Zählerstand (kWh)\n"  # line 1
        "22.01.2026 00:00;5.000,0\n"  # 2
        "23.01.2026 00:00;5.010,0\n"  # 3
        "24.01.2026 00:00;zehn\n"  # 4: not a number
        "25.01.2026 00:00;5.030,0\n"  # 5
        "31.02.2026 00:00;5.040,0\n"  # 6: no such date
        "27.01.2026 00:00;5.050,0\n"  # 7
        "28.01.2026 00:00;5.020,0\n"  # 8: register went backwards
        "29.01.2026 00:00;5.070,0\n",  # 9
        encoding="utf-8",
    )
    report = CsvImporter(contest_db).import_file(csv, "A")
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (8, 5, 3)
    assert [r.line_no for r in report.rejections] == [4, 6, 8]
    reasons = [r.reason for r in report.rejections]
    assert "zehn" in reasons[0]
    assert "31.02.2026" in reasons[1]
    assert "backwards" in reasons[2] and "5050" in reasons[2].replace(".", "").replace(",", "")
    stored = readback.rejected_records(contest_db, report.batch_id)
    assert [(r.line_no, r.raw) for r in stored] == [
        (4, "24.01.2026 00:00;zehn"),
        (6, "31.02.2026 00:00;5.040,0"),
        (8, "28.01.2026 00:00;5.020,0"),
    ]


def test_unknown_contest_is_a_friendly_404_not_a_stack_trace(base_url: str) -> None:
    api = httpx.get(f"{base_url}/api/contests/nope/leaderboard")
    assert api.status_code == 404
    assert api.json() == {
        "status": 404,
        "error": "contest.contest_not_found",
        "detail": "no contest with the slug 'nope'",
    }
    page = httpx.get(f"{base_url}/contests/nope")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "Nicht gefunden" in page.text and "Traceback" not in page.text
    missing = httpx.get(f"{base_url}/no/such/page")
    assert missing.status_code == 404 and "Nicht gefunden" in missing.text


def test_openapi_describes_the_leaderboard(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/schema/openapi.json").json()
    assert "/api/contests/{slug}/leaderboard" in spec["paths"]
    assert "LeaderboardOut" in str(spec["components"]["schemas"])


def test_html_page_shows_both_tables_in_german(base_url: str) -> None:
    page = httpx.get(f"{base_url}/contests/test-2026")
    assert page.status_code == 200
    html = page.text
    assert "Testwettbewerb 2026" in html and "Nordviertel" in html
    assert "20,0\u00a0%" in html  # Amsel's savings, German decimal comma (CLDR: a no-break space before %)
    assert "Chamäleon" not in html  # not opted in
    assert "zu wenig Daten" in html  # Dachs
    english = httpx.get(f"{base_url}/contests/test-2026?lang=en").text
    assert "20.0%" in english and "not enough data" in english


def test_a_crash_midway_leaves_no_half_imported_file(
    contest_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import is one transaction: if storing fails after the readings were written (here: while
    writing the daily consumption), nothing of the file is kept, not even its import batch."""
    from contest import consumption

    files = write_contest_files(tmp_path / "crash")
    csv = tmp_path / "more.csv"
    csv.write_text(
        "Datum;Zählerstand (kWh)\n22.01.2026 00:00;5.000,0\n23.01.2026 00:00;5.010,0\n24.01.2026 00:00;5.020,0\n",
        encoding="utf-8",
    )
    before = readback.count_readings(contest_db, "A")
    with contest_db.session() as session:
        batches_before = session.execute(text("SELECT count(*) FROM import_batch")).scalar()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(consumption.DailyPlan, "write", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        CsvImporter(contest_db).import_file(csv, "A")
    assert readback.count_readings(contest_db, "A") == before
    with contest_db.session() as session:
        assert session.execute(text("SELECT count(*) FROM import_batch")).scalar() == batches_before
    monkeypatch.undo()
    report = CsvImporter(contest_db).import_file(csv, "A")  # the same file again, now whole
    assert report.rows_stored == 3
    assert files  # the contest's own files are untouched


def test_a_bulk_import_leaves_foreign_key_checks_on_for_everyone_else(db: Database, tmp_path: Path) -> None:
    """Large SQLite imports skip the per-row foreign-key lookups inside their own transaction; the
    connection must go back to the pool with the checks on (cascades and integrity depend on them)."""
    from contest.config import parse_contest_config
    from contest.reading_store import BULK_ROWS_WITHOUT_FK_CHECKS

    with db.session() as session:
        ContestService(session).setup(
            parse_contest_config(
                '[contest]\nslug = "fk"\nname = "FK"\nbaseline = { start = 2026-01-01, end = 2026-01-31 }\n'
                'competition = { start = 2026-02-01, end = 2026-12-31 }\n[[households]]\npseudonym = "h"\n'
                'meters = [{ id = "FK1", kind = "interval" }]\n'
            )
        )
    n = BULK_ROWS_WITHOUT_FK_CHECKS + 10
    import pandas as pd

    stamps = pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC")
    lines = [
        "Interval start,Consumption (Wh)",
        *(f"{t:%Y-%m-%dT%H:%M:%SZ},{i % 50}" for i, t in enumerate(stamps)),
    ]
    report = CsvImporter(db).import_bytes(("\n".join(lines) + "\n").encode(), "FK1")
    assert report.rows_stored == n and report.rows_rejected == 0
    for _ in range(3):  # whichever pooled connection comes next
        with db.session() as session:
            if session.connection().dialect.name == "sqlite":
                assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
