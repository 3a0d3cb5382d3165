"""The contest chooses its scoring method and parameters as data (TOML -> database -> scoring), imports
weather for degree days, and publishes CO2 avoided; nonsense settings are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from contest.config import parse_contest_config, read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.errors import ConfigError
from contest.leaderboards import LeaderboardService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, CONTEST_TOML, write_contest_files
from tests.servers import live_server
from web.app import create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "weather"


def test_co2_factor_and_team_aggregation_come_from_the_contest_file(db: Database, tmp_path: Path) -> None:
    files = write_contest_files(tmp_path / "files")
    text = files["toml"].read_text(encoding="utf-8")
    text = text.replace("[scoring]\n", '[scoring]\nteam_aggregation = "median"\n')
    text += "\n[co2]\nelectricity_kg_per_kwh = 0.5\n"
    files["toml"].write_text(text, encoding="utf-8")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "ABCDE":
        CsvImporter(db).import_file(files[meter], meter)
    with live_server(create_app(db, clock=lambda: AS_OF)) as url:
        body = httpx.get(f"{url}/api/contests/test-2026/leaderboard").json()
    amsel = next(h for h in body["households"] if h["pseudonym"] == "Amsel")
    assert amsel["co2_saved_kg"] == pytest.approx(20.0 * 0.5)  # 20 kWh saved x 0.5 kg/kWh
    (team,) = body["teams"]
    assert team["savings_fraction"] == pytest.approx(0.1)  # median of 20 %, 0 %, 10 %
    assert body["city"]["co2_saved_kg"] == pytest.approx((20 + 0 + 11 + 20) * 0.5)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('method = "astrology"', "baseline method must be one of"),
        ('team_aggregation = "max"', "scoring settings"),
        ("excluded_days = [2026-13-01]", "not valid TOML"),
    ],
)
def test_nonsense_scoring_settings_are_refused(snippet: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_contest_config(CONTEST_TOML.replace("[scoring]\n", f"[scoring]\n{snippet}\n"))
    assert message in str(info.value)


def test_weather_is_imported_for_degree_days(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_contest_files(tmp_path / "files")
    text = (
        files["toml"]
        .read_text(encoding="utf-8")
        .replace("[scoring]\n", '[scoring]\nmethod = "degree_day_regression"\n')
    )
    files["toml"].write_text(text, encoding="utf-8")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    dwd = next(DATA.glob("produkt_klima_tag_*.txt"))
    result = CliRunner().invoke(app, ["weather", "import", "test-2026", str(dwd)])
    assert result.exit_code == 0, result.output
    assert "days of temperature stored" in result.output and "DWD" in result.output
    with db.session() as session:
        board = LeaderboardService(session).leaderboard("test-2026", AS_OF, public_only=False)
    assert board.contest.rules.scoring.method == "degree_day_regression"
