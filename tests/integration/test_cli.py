"""The `contest` command as city staff use it: setup, import, score, household add and code, demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from contest.db import Database
from contest.errors import HouseholdNotFound, PermissionDenied
from contest.households import HouseholdService
from tests.integration.contest_fixture import CONTEST_TOML, write_contest_files


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
    with db.session() as session:
        info = HouseholdService(session).authenticate(code)
    assert (info.pseudonym, info.persons, info.team) == ("Fuchs", 3, "Nordviertel")
    assert [m.external_id for m in info.meters] == ["F-1"]
    db.dispose()


def _code_of(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("Access code:")).split()[-1]


def test_adding_a_household_that_exists_is_refused_and_changes_nothing(
    run: CliRunner, tmp_path: Path, db_url: str
) -> None:
    files = write_contest_files(tmp_path)
    facts = 'pseudonym = "Amsel"\nliving_area_m2 = 80.0\nbuilding_type = "house"'
    files["toml"].write_text(CONTEST_TOML.replace('pseudonym = "Amsel"', facts), encoding="utf-8")
    assert run.invoke(app, ["setup", str(files["toml"])]).exit_code == 0
    issued = run.invoke(app, ["household", "code", "test-2026", "Amsel"])
    assert issued.exit_code == 0, issued.output
    code = _code_of(issued.output)

    again = run.invoke(app, ["household", "add", "test-2026", "Amsel", "--persons", "5", "--private"])
    assert again.exit_code == 2
    assert "already has a household 'Amsel'" in again.output and "nothing was changed" in again.output
    assert "contest household code test-2026 'Amsel'" in again.output  # how to get a new code
    assert "Access code" not in again.output
    db = Database(db_url)
    with db.session() as session:
        amsel = HouseholdService(session).authenticate(code)  # the code given out before still signs in
    assert (amsel.pseudonym, amsel.persons, amsel.public_listing) == ("Amsel", 2, True)
    assert (amsel.team, amsel.living_area_m2, amsel.building_type) == ("Nordviertel", 80.0, "house")
    db.dispose()


def test_household_code_gives_a_new_code_and_the_old_one_stops_working(
    run: CliRunner, tmp_path: Path, db_url: str
) -> None:
    files = write_contest_files(tmp_path)
    run.invoke(app, ["setup", str(files["toml"])])
    first = run.invoke(app, ["household", "code", "test-2026", "Biene"])
    assert first.exit_code == 0, first.output
    second = run.invoke(app, ["household", "code", "test-2026", "Biene"])
    assert second.exit_code == 0, second.output
    assert "old code no longer works" in second.output
    old, new = _code_of(first.output), _code_of(second.output)
    assert old != new
    db = Database(db_url)
    with db.session() as session:
        households = HouseholdService(session)
        biene = households.authenticate(new)
        assert (biene.pseudonym, biene.persons, biene.public_listing) == ("Biene", 4, True)
        with pytest.raises(PermissionDenied):
            households.authenticate(old)
    db.dispose()
    unknown = run.invoke(app, ["household", "code", "test-2026", "Bienne"])
    assert unknown.exit_code == 2 and "has no household 'Bienne'" in unknown.output
    assert run.invoke(app, ["household", "code", "no-such-contest", "Biene"]).exit_code == 2


def test_a_mistyped_team_is_refused_with_the_known_teams_unless_it_is_created(
    run: CliRunner, tmp_path: Path, db_url: str
) -> None:
    files = write_contest_files(tmp_path)
    run.invoke(app, ["setup", str(files["toml"])])
    add = ["household", "add", "test-2026", "Fuchs", "--meter", "F-1", "--team"]
    typo = run.invoke(app, [*add, "Nordvirtel"])
    assert typo.exit_code == 2
    assert "no team named 'Nordvirtel'" in typo.output and "its teams: 'Nordviertel'" in typo.output
    assert "--create-team" in typo.output
    db = Database(db_url)
    # Nothing was added: no household, no team.
    with pytest.raises(HouseholdNotFound), db.session() as session:
        HouseholdService(session).find("test-2026", "Fuchs")
    created = run.invoke(app, [*add, "Südstadt", "--create-team"])
    assert created.exit_code == 0, created.output
    with db.session() as session:
        fuchs = HouseholdService(session).authenticate(_code_of(created.output))
    assert (fuchs.pseudonym, fuchs.team) == ("Fuchs", "Südstadt")
    assert [m.external_id for m in fuchs.meters] == ["F-1"]
    # Now the team exists: another household joins it without --create-team; a typo lists both teams.
    assert run.invoke(app, ["household", "add", "test-2026", "Gans", "--team", "Südstadt"]).exit_code == 0
    both = run.invoke(app, ["household", "add", "test-2026", "Hase", "--team", "Sudstadt"])
    assert both.exit_code == 2 and "its teams: 'Nordviertel', 'Südstadt'" in both.output
    db.dispose()


def test_setup_again_keeps_what_the_file_does_not_state(run: CliRunner, tmp_path: Path, db_url: str) -> None:
    """Staff re-apply the contest file (a date changed, a household added); a household's facts the
    file does not state stay as the household (portal) or the staff (admin) set them since."""
    files = write_contest_files(tmp_path)
    assert run.invoke(app, ["setup", str(files["toml"])]).exit_code == 0
    db = Database(db_url)
    with db.session() as session:
        households = HouseholdService(session)
        amsel, biene = households.find("test-2026", "Amsel"), households.find("test-2026", "Biene")
        # Amsel, in the portal: not listed publicly any more, a house with electric hot water.
        households.update(
            amsel.id, pseudonym="Amsel", public_listing=False, building_type="house", electric_hot_water=True
        )
    # The staff, in the admin API: Biene has five persons and 95 m², in a new team.
    with db.session() as session:
        HouseholdService(session).update(
            biene.id, persons=5, living_area_m2=95.0, team="Südstadt", create_team=True
        )

    # The file without persons, public and team lines (and with a new household that states nothing).
    omitted = ("persons", "public", "team =")
    kept = [line for line in CONTEST_TOML.splitlines() if not line.startswith(omitted)]
    trimmed = tmp_path / "trimmed.toml"
    trimmed.write_text("\n".join(kept) + '\n[[households]]\npseudonym = "Fuchs"\n', encoding="utf-8")
    result = run.invoke(app, ["setup", str(trimmed)])
    assert result.exit_code == 0, result.output

    with db.session() as session:
        households = HouseholdService(session)
        amsel, biene = households.get(amsel.id), households.get(biene.id)
        fuchs = households.find("test-2026", "Fuchs")  # a new household gets the defaults
    assert (amsel.public_listing, amsel.building_type, amsel.electric_hot_water) == (False, "house", True)
    assert (amsel.persons, amsel.team) == (2, "Nordviertel")
    assert (biene.persons, biene.living_area_m2, biene.team) == (5, 95.0, "Südstadt")
    assert biene.public_listing is True
    assert (fuchs.persons, fuchs.public_listing, fuchs.team, fuchs.living_area_m2) == (1, False, None, None)
    # What the file does state, it sets.
    assert run.invoke(app, ["setup", str(files["toml"])]).exit_code == 0
    with db.session() as session:
        assert HouseholdService(session).get(biene.id).persons == 4
    db.dispose()


def test_demo_builds_scores_and_ranks_a_contest(run: CliRunner, db_url: str, tmp_path: Path) -> None:
    result = run.invoke(
        app, ["demo", "--dir", str(tmp_path / "demo"), "--households", "24", "--teams", "3", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "demo (24 households, 24 with data)" in result.output
    scored = next(line for line in result.output.splitlines() if line.startswith("Scored:"))
    assert "3 teams" in scored
    ranked = int(scored.split(",")[1].split()[0])
    assert ranked >= 8  # most of the ~70 % public households have enough data
    csvs = sorted((tmp_path / "demo").glob("*.csv"))
    headers = {p.read_text(encoding="utf-8").splitlines()[0] for p in csvs}
    assert any(";" in h for h in headers) and any("," in h for h in headers)  # both dialects
    # The demo hands out one access code, so a new user can try the household portal; it works.
    line = next(
        line for line in result.output.splitlines() if line.startswith("  running") and "code" in line
    )
    code = line.split("access code ", 1)[1].split()[0]
    db = Database(db_url)
    with db.session() as session:
        assert HouseholdService(session).authenticate(code).pseudonym in line
    db.dispose()
