"""The `contest` command as city staff use it: setup, import, score, household add, demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from contest.cli import app
from contest.db import Database
from contest.services import HouseholdService
from tests.integration.contest_fixture import write_contest_files


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    return CliRunner()


def test_setup_import_score_from_the_command_line(run: CliRunner, tmp_path: Path) -> None:
    files = write_contest_files(tmp_path)
    result = run.invoke(app, ["setup", str(files["toml"])])
    assert result.exit_code == 0, result.output
    assert "1 teams, 5 households" in result.output
    again = run.invoke(app, ["setup", str(files["toml"])])  # idempotent
    assert again.exit_code == 0, again.output
    for meter in "ABCDE":
        result = run.invoke(app, ["import", str(files[meter]), "--meter", meter])
        assert result.exit_code == 0, result.output
        assert "rejected 0" in result.output
    dup = run.invoke(app, ["import", str(files["A"]), "--meter", "A"])
    assert "stored 0, duplicates 21, rejected 0" in dup.output
    score = run.invoke(app, ["score", "test-2026", "--as-of", "2026-01-21T00:00:00+01:00"])
    assert score.exit_code == 0, score.output
    lines = score.output.splitlines()
    amsel = next(line for line in lines if "Amsel" in line)
    assert amsel.split()[0] == "1" and "20.0 %" in amsel
    # The CLI shows all households to staff, also those not listed publicly.
    assert any("Chamäleon" in line and "10.0 %" in line for line in lines)


def test_errors_are_one_line_messages_with_exit_code_2(run: CliRunner, tmp_path: Path) -> None:
    missing = run.invoke(app, ["score", "no-such-contest"])
    assert missing.exit_code == 2 and "no contest with the slug 'no-such-contest'" in missing.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[contest]\nslug = 'x'\n", encoding="utf-8")
    result = run.invoke(app, ["setup", str(bad)])
    assert result.exit_code == 2 and "contest.name is required" in result.output
    files = write_contest_files(tmp_path / "f")
    run.invoke(app, ["setup", str(files["toml"])])
    unknown = run.invoke(app, ["import", str(files["A"]), "--meter", "NOPE"])
    assert unknown.exit_code == 2 and "no meter with the id 'NOPE'" in unknown.output


def test_household_add_prints_a_code_that_signs_in(run: CliRunner, tmp_path: Path, db_url: str) -> None:
    files = write_contest_files(tmp_path)
    run.invoke(app, ["setup", str(files["toml"])])
    result = run.invoke(
        app,
        [
            "household",
            "add",
            "test-2026",
            "Fuchs",
            "--persons",
            "3",
            "--team",
            "Nordviertel",
            "--meter",
            "F-1",
            "--public",
        ],
    )
    assert result.exit_code == 0, result.output
    code = next(line for line in result.output.splitlines() if line.startswith("Access code:")).split()[-1]
    db = Database(db_url)
    info = HouseholdService(db).authenticate(code)
    assert (info.pseudonym, info.persons, info.team) == ("Fuchs", 3, "Nordviertel")
    assert [m.external_id for m in info.meters] == ["F-1"]
    db.dispose()


def test_demo_builds_scores_and_ranks_a_contest(run: CliRunner, db_url: str, tmp_path: Path) -> None:
    result = run.invoke(
        app, ["demo", "--dir", str(tmp_path / "demo"), "--households", "24", "--teams", "3", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported 24 files" in result.output
    scored = next(line for line in result.output.splitlines() if line.startswith("Scored:"))
    assert "3 teams" in scored
    ranked = int(scored.split(",")[1].split()[0])
    assert ranked >= 8  # most of the ~70 % public households have enough data
    csvs = sorted((tmp_path / "demo").glob("*.csv"))
    headers = {p.read_text(encoding="utf-8").splitlines()[0] for p in csvs}
    assert any(";" in h for h in headers) and any("," in h for h in headers)  # both dialects
    # The demo hands out one access code, so a new user can try the household portal; it works.
    line = next(line for line in result.output.splitlines() if "access code" in line)
    code = line.rsplit(" ", 1)[1]
    db = Database(db_url)
    assert HouseholdService(db).authenticate(code).pseudonym in line
    db.dispose()
