"""Gas meters count m³ and are converted with the contest's or the meter's own factors (DVGW G 685);
a replaced meter keeps the household's consumption continuous; a reset is never negative consumption."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli.main import app
from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.errors import ConfigError, MeterNotFound
from contest.leaderboards import LeaderboardService
from ingest.importer import CsvImporter
from scoring import schema as S
from scoring.daily import household_daily
from tests import stored as readback

BERLIN = ZoneInfo("Europe/Berlin")

TOML = """
[contest]
slug = "gas-2026"
name = "Heizen 2026"
carrier = "gas"
baseline = { start = 2026-01-01, end = 2026-01-31 }
competition = { start = 2026-02-01, end = 2026-03-31 }

[gas]
brennwert_kwh_per_m3 = 10.0
zustandszahl = 0.95

[[households]]
pseudonym = "Ofen"
meters = [{ id = "G1", carrier = "gas", kind = "register" }]

[[households]]
pseudonym = "Kamin"
meters = [{ id = "G2", carrier = "gas", kind = "register", gas = { brennwert_kwh_per_m3 = 11.1, zustandszahl = 0.9253 } }]
"""


@pytest.fixture
def gas_db(db: Database) -> Database:
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(TOML))
    return db


def _daily(db: Database, meter: str) -> dict[dt.date, float]:
    frame = readback.daily(db, meter)
    return dict(zip(frame[S.DAY], frame[S.ENERGY_KWH], strict=True))


def test_gas_volume_becomes_energy_with_contest_or_meter_factors(gas_db: Database) -> None:
    # 20 days apart: 1,500 m³ in one day (~600 kW) is more than a household can draw and is rejected
    # (contest.readings.MAX_HOUSEHOLD_POWER_KW); over 20 days it is a cold month's heating.
    body = "Datum;Zählerstand (m³)\n01.01.2026 00:00;3.450,000\n21.01.2026 00:00;4.950,000\n"
    importer = CsvImporter(gas_db)
    importer.import_bytes(body.encode("utf-8"), "G1")
    importer.import_bytes(body.encode("utf-8"), "G2")
    # 1,500 m³ x Z x Brennwert: the contest's factors for G1, the meter's own for G2 (the worked
    # example of ErmstalEnergie: 1.500 m³ x 11,1 x 0,9253 = 15.406,245 kWh).
    assert _daily(gas_db, "G1")[dt.date(2026, 1, 1)] == pytest.approx(1500 * 0.95 * 10.0 / 20)
    assert _daily(gas_db, "G2")[dt.date(2026, 1, 1)] == pytest.approx(1500 * 0.9253 * 11.1 / 20)
    preview = importer.preview(body.encode("utf-8"), "G2")
    assert preview.detected["unit"] in ("m³", "m3") and preview.total_kwh == pytest.approx(15406.245)


def test_a_replaced_meter_keeps_consumption_continuous(gas_db: Database) -> None:
    importer = CsvImporter(gas_db)
    # Old meter G1: 10 m³ a day from 1 to 10 January, swapped on 10 January at 12:00 at 1,095 m³.
    old = "Datum;Zählerstand (m³)\n" + "".join(
        f"{d:02d}.01.2026 00:00;{1000 + 10 * (d - 1)},0\n" for d in range(1, 11)
    )
    importer.import_bytes(old.encode(), "G1")
    swap = dt.datetime(2026, 1, 10, 12, 0, tzinfo=BERLIN)
    readback.replace_meter(
        gas_db, "G1", "G1-NEU", swap, old_final_kwh=1095 * 0.95 * 10.0, new_initial_kwh=0.0
    )
    # New meter: starts at 0 m³, 10 m³ a day; its first reading at midnight is 5 m³ (half a day).
    new = "Datum;Zählerstand (m³)\n" + "".join(
        f"{d:02d}.01.2026 00:00;{5 + 10 * (d - 11)},0\n" for d in range(11, 16)
    )
    report = importer.import_bytes(new.encode(), "G1-NEU")
    assert report.rows_rejected == 0
    per_day = 10 * 0.95 * 10.0
    meter_daily = pd_concat(readback.daily(gas_db, "G1"), "G1", readback.daily(gas_db, "G1-NEU"), "G1-NEU")
    house = household_daily(meter_daily, meter_daily[[S.METER_ID]].drop_duplicates().assign(household_id=1))
    by_day = dict(
        zip(
            house[S.DAY].dt.date,
            zip(house[S.ENERGY_KWH], house[S.COVERAGE_FRACTION], strict=True),
            strict=True,
        )
    )
    for day in range(1, 15):
        energy, coverage = by_day[dt.date(2026, 1, day)]
        assert coverage == pytest.approx(1.0), day  # the swap day is covered half by each meter
        assert energy == pytest.approx(per_day), day
    # Readings for the old meter after the swap belong to the new one: rejected with a reason.
    late = importer.import_bytes(b"Datum;Z\xc3\xa4hlerstand (m\xc2\xb3)\n11.01.2026 00:00;1.100,0\n", "G1")
    assert late.rows_stored == 0 and late.rows_rejected == 1
    assert "replaced" in late.rejections[0].reason
    with pytest.raises(ConfigError, match="already replaced"):
        readback.replace_meter(gas_db, "G1", "G1-X", swap + dt.timedelta(days=1))


def pd_concat(a, a_id, b, b_id):  # type: ignore[no-untyped-def]
    import pandas as pd

    frame = pd.concat([a.assign(meter_id=a_id), b.assign(meter_id=b_id)], ignore_index=True)
    frame[S.DAY] = pd.to_datetime(frame[S.DAY])
    return frame


def test_a_register_reset_is_not_negative_consumption(gas_db: Database) -> None:
    body = (
        "Datum;Zählerstand (m³)\n01.01.2026 00:00;5.000,0\n02.01.2026 00:00;5.010,0\n"
        "03.01.2026 00:00;0,5\n04.01.2026 00:00;10,5\n"
    )
    report = CsvImporter(gas_db).import_bytes(body.encode(), "G1")
    assert report.rows_stored == 4  # the fall to near zero is a reset, kept
    daily = _daily(gas_db, "G1")
    assert all(v >= 0 for v in daily.values())
    assert daily[dt.date(2026, 1, 1)] == pytest.approx(10 * 9.5)
    assert dt.date(2026, 1, 2) not in daily or daily[dt.date(2026, 1, 2)] == 0  # unknown, not negative
    assert daily[dt.date(2026, 1, 3)] == pytest.approx(10 * 9.5)


def test_meter_replace_from_the_command_line(
    gas_db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEST_DB_URL", db_url)
    result = CliRunner().invoke(
        app, ["meter", "replace", "G2", "G2-NEU", "--at", "2026-02-15 09:00", "--final", "12.345,6"]
    )
    assert result.exit_code == 0, result.output
    ctx = readback.import_context(gas_db, "G2-NEU")
    assert ctx.valid_from == dt.datetime(2026, 2, 15, 8, 0, tzinfo=dt.UTC)
    assert readback.count_readings(gas_db, "G2") == 1 and readback.count_readings(gas_db, "G2-NEU") == 1
    with gas_db.session() as session:
        board = LeaderboardService(session).leaderboard(
            "gas-2026", dt.datetime(2026, 3, 1, tzinfo=dt.UTC), public_only=False
        )
    assert {h.pseudonym for h in board.households} == {"Ofen", "Kamin"}


def test_a_meter_swap_and_its_two_readings_are_one_transaction(
    gas_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: the swap committed first and its readings followed in two more transactions, so a
    failure storing them left a swapped meter without its final reading. Now it is all or nothing."""
    from contest import reading_store

    stores = 0
    real = reading_store.write_readings

    def fail_second(*args: object, **kwargs: object) -> int:
        nonlocal stores
        stores += 1
        if stores == 2:  # the new meter's initial reading, after the old one's final reading
            raise RuntimeError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reading_store, "write_readings", fail_second)
    swap = dt.datetime(2026, 1, 10, tzinfo=BERLIN)
    with pytest.raises(RuntimeError, match="disk full"):
        readback.replace_meter(gas_db, "G1", "G1-NEU", swap, old_final_kwh=100.0, new_initial_kwh=0.0)
    assert readback.import_context(gas_db, "G1").valid_to is None  # not swapped
    assert readback.count_readings(gas_db, "G1") == 0  # nor its final reading kept
    with pytest.raises(MeterNotFound):
        readback.import_context(gas_db, "G1-NEU")
    monkeypatch.undo()
    new = readback.replace_meter(gas_db, "G1", "G1-NEU", swap, old_final_kwh=100.0, new_initial_kwh=0.0)
    assert new.valid_from == swap and readback.count_readings(gas_db, "G1-NEU") == 1


def test_the_findings_of_daily_consumption_reach_the_staff(gas_db: Database) -> None:
    """Issue 12: the findings of the daily computation (here a register reset) were dropped. They are
    kept with the days they are about, rebuilt with them, and shown in the staff's findings report."""
    from contest.reading_store import ReadingService
    from contest.staff import FindingsReview

    body = (
        "Datum;Zählerstand (m³)\n01.01.2026 00:00;5.000,0\n02.01.2026 00:00;5.010,0\n"
        "03.01.2026 00:00;0,5\n04.01.2026 00:00;10,5\n"
    )
    CsvImporter(gas_db).import_bytes(body.encode(), "G1")
    readback.rebuild_all_daily(gas_db, "G1")  # rebuilt with its days: still one finding, not two
    with gas_db.session() as session:
        found = ReadingService(session).findings("gas-2026")
        report = FindingsReview().report(
            session, "gas-2026", clock=lambda: dt.datetime(2026, 3, 1, tzinfo=dt.UTC), plausibility_only=False
        )
    (reset,) = [f for f in found if f.key == "scoring.register_reset"]
    assert (reset.meter, reset.pseudonym, reset.day) == ("G1", "Ofen", dt.date(2026, 1, 3))
    assert reset.data["before_kwh"] == pytest.approx(5010 * 9.5)
    (shown,) = [f for f in report.findings if f.key == "scoring.register_reset"]
    assert shown.pseudonym == "Ofen" and shown.subject == "meter:G1" and shown.data["day"] == "2026-01-03"
