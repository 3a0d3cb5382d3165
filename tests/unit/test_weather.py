"""Weather parsers (ingest/weather.py): the DWD daily climate product and plain temperature CSVs, German
and English; bad input is an IngestError that says what is wrong. The DWD fixture is synthetic data
written in the real produkt_klima_tag format (see tests/data/weather/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contest.errors import IngestError
from ingest import weather as ingest_weather
from ingest.weather import STATION_ID, parse_dwd_daily, parse_temperature_csv
from scoring.schema import DAY, TEMP_C, WEATHER_COLUMNS
from scoring.weather import validate_weather

DATA = Path(__file__).resolve().parents[1] / "data" / "weather"
DWD = DATA / "produkt_klima_tag_20240101_20240131_99999.txt"


def test_the_parsers_use_the_columns_scoring_takes() -> None:
    assert (ingest_weather.DAY, ingest_weather.TEMP_C) == WEATHER_COLUMNS


def test_dwd_file_gives_one_row_per_day_with_the_mean_temperature() -> None:
    weather = parse_dwd_daily(DWD.read_bytes())
    assert list(weather.columns) == [DAY, TEMP_C, STATION_ID]
    assert len(weather) == 31
    assert weather[DAY].iloc[0] == pd.Timestamp("2024-01-01")
    assert weather[DAY].iloc[-1] == pd.Timestamp("2024-01-31")
    assert str(weather[DAY].dtype) == "datetime64[us]"
    # Values as written in the file's TMK column (first rows: "   2.3", "   3.1").
    assert weather[TEMP_C].iloc[0] == pytest.approx(2.3)
    assert weather[TEMP_C].iloc[1] == pytest.approx(3.1)
    assert set(weather[STATION_ID]) == {"99999"}


def test_dwd_missing_value_minus_999_becomes_nan_and_scoring_drops_it() -> None:
    weather = parse_dwd_daily(DWD.read_bytes())
    tenth = weather.loc[weather[DAY] == pd.Timestamp("2024-01-10"), TEMP_C].iloc[0]
    assert np.isnan(tenth)
    checked = validate_weather(weather)
    assert len(checked) == 30
    assert pd.Timestamp("2024-01-10") not in set(checked[DAY])


def test_dwd_rows_in_any_order_come_back_sorted() -> None:
    lines = DWD.read_bytes().splitlines(keepends=True)
    shuffled = b"".join([lines[0], *reversed(lines[1:])])
    pd.testing.assert_frame_equal(parse_dwd_daily(shuffled), parse_dwd_daily(DWD.read_bytes()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"STATIONS_ID;MESS_DATUM;TXK;eor\n1;20240101;3.0;eor\n", "TMK"),
        (b"STATIONS_ID;MESS_DATUM; TMK;eor\n", "no data rows"),
        (b"STATIONS_ID;MESS_DATUM; TMK;eor\n1;2024-01-01; 3.0;eor\n", "yyyymmdd"),
        (b"STATIONS_ID;MESS_DATUM; TMK;eor\n1;20240101; warm;eor\n", "not a number"),
        (b"STATIONS_ID;MESS_DATUM; TMK;eor\n1;20240101; 3.0;eor\n1;20240101; 4.0;eor\n", "more than once"),
        (b"STATIONS_ID;MESS_DATUM; TMK;eor\n1;20240101; 3.0;eor\n2;20240102; 4.0;eor\n", "2 stations"),
    ],
)
def test_dwd_bad_input_is_an_ingest_error_that_says_why(data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        parse_dwd_daily(data)


def test_german_temperature_csv() -> None:
    data = "Datum;Temperatur (°C)\n01.01.2024;3,5\n02.01.2024;-1,25\n03.01.2024;\n".encode("cp1252")
    weather = parse_temperature_csv(data)
    assert list(weather[DAY]) == list(pd.date_range("2024-01-01", periods=3))
    assert weather[TEMP_C].iloc[0] == pytest.approx(3.5)
    assert weather[TEMP_C].iloc[1] == pytest.approx(-1.25)
    assert np.isnan(weather[TEMP_C].iloc[2])


def test_english_temperature_csv_with_bom_and_comment() -> None:
    data = "\ufeff# station Musterstadt\ndate,temp_c\n2024-01-02,4.5\n2024-01-01,-0.5\n".encode()
    weather = parse_temperature_csv(data)
    assert list(weather[DAY]) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]
    assert list(weather[TEMP_C]) == [-0.5, 4.5]


def test_a_semicolon_file_with_decimal_points_is_read_as_written() -> None:
    weather = parse_temperature_csv(b"Tag;TMK\n20240101;3.5\n20240102;2\n")
    assert list(weather[TEMP_C]) == [3.5, 2.0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"  \n", "empty"),
        (b"date,temp_f\n2024-01-01,40\n", "°F|temperature column"),
        (b"date,Temperature (\xc2\xb0F)\n2024-01-01,40\n", "°F"),
        (b"when,value\n2024-01-01,4\n", "date column"),
        (b"date,temp_c\n", "no data rows"),
        (b"date,temp_c\nyesterday,4\n", "not a date"),
        (b"date,temp_c\n2024-01-01,4\n01.02.2024,5\n", "not a date like"),
        (b"date,temp_c\n2024-01-01,mild\n", "not a number"),
        (b"date,temp_c\n2024-01-01,4\n2024-01-01,5\n", "more than once"),
    ],
)
def test_bad_temperature_csv_is_an_ingest_error_that_says_why(data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        parse_temperature_csv(data)
