"""A household's facts obey one rule in every path that sets them: the contest file (parsed or built in
code), the command line, the staff's admin API and the household's own portal. Before, ``persons`` was
bounded only in the API, ``living_area_m2`` checked in one path, and a taken pseudonym was 400 in the
portal but 409 in the admin API."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from contest.config import ContestConfig, HouseholdConfig, read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.domain import LIVING_AREA_M2_RANGE, PERSONS_RANGE
from contest.errors import AlreadyExists, ConfigError
from contest.households import HouseholdService
from tests.integration.contest_fixture import write_contest_files


@pytest.fixture
def cfg(tmp_path: Path) -> ContestConfig:
    return read_contest_config(write_contest_files(tmp_path)["toml"])


def _with_household(cfg: ContestConfig, **facts: object) -> ContestConfig:
    """The contest file with one more household stating ``facts`` (as a config built in code)."""
    return dataclasses.replace(cfg, households=(*cfg.households, HouseholdConfig("Fuchs", **facts)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"persons": PERSONS_RANGE[0] - 1}, "persons"),
        ({"persons": PERSONS_RANGE[1] + 1}, "persons"),
        ({"living_area_m2": LIVING_AREA_M2_RANGE[0] / 2}, "living_area_m2"),
        ({"living_area_m2": LIVING_AREA_M2_RANGE[1] * 2}, "living_area_m2"),
        ({"building_type": "castle"}, "building_type"),
    ],
)
def test_a_contest_set_up_in_code_has_the_bounds_of_the_file(
    db: Database, cfg: ContestConfig, facts: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=field), db.session() as session:
        ContestService(session).setup(_with_household(cfg, **facts))
    with db.session() as session:  # nothing was stored: not the contest, not a household
        assert ContestService(session).list_contests() == []


def test_persons_and_living_area_have_the_same_bounds_when_added_and_edited(
    db: Database, cfg: ContestConfig
) -> None:
    with db.session() as session:
        ContestService(session).setup(cfg)
    for facts in ({"persons": 0}, {"persons": 51}, {"living_area_m2": 1.0}, {"living_area_m2": 20_000.0}):
        with pytest.raises(ConfigError), db.session() as session:
            HouseholdService(session).add("test-2026", "Fuchs", **facts)  # type: ignore[arg-type]
        with db.session() as session:
            amsel = HouseholdService(session).find("test-2026", "Amsel")
        with pytest.raises(ConfigError), db.session() as session:
            HouseholdService(session).update(amsel.id, **facts)
    with db.session() as session:
        households = HouseholdService(session)
        assert "Fuchs" not in {h.pseudonym for h in households.records("test-2026")}
        amsel = households.find("test-2026", "Amsel")
    assert (amsel.persons, amsel.living_area_m2) == (2, None)


def test_the_command_line_refuses_persons_out_of_bounds(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    run = CliRunner()
    assert run.invoke(app, ["setup", str(write_contest_files(tmp_path)["toml"])]).exit_code == 0
    for persons in ("0", "51"):
        refused = run.invoke(app, ["household", "add", "test-2026", "Fuchs", "--persons", persons])
        assert refused.exit_code == 2 and "persons must be a whole number between 1 and 50" in refused.output


def test_a_taken_pseudonym_is_the_same_conflict_for_staff_and_household(
    db: Database, cfg: ContestConfig
) -> None:
    with db.session() as session:
        ContestService(session).setup(cfg)
        amsel = HouseholdService(session).find("test-2026", "Amsel")
    # The household renames itself (portal) and the staff rename it (admin API): one method, one error.
    for change in ({"pseudonym": "Biene", "public_listing": True}, {"pseudonym": " Biene "}):
        with pytest.raises(AlreadyExists) as taken, db.session() as session:
            HouseholdService(session).update(amsel.id, **change)
        assert taken.value.key == "household.pseudonym_taken" and taken.value.params == {"pseudonym": "Biene"}
    with pytest.raises(AlreadyExists) as again, db.session() as session:
        HouseholdService(session).add("test-2026", "Biene")
    assert again.value.key == "household.pseudonym_taken"
    with db.session() as session:  # keeping its own name is no conflict
        assert HouseholdService(session).update(amsel.id, pseudonym="Amsel").pseudonym == "Amsel"
