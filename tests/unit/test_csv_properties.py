"""Properties of the CSV parser: it never fails with anything but CsvFormatError, whatever the bytes, and
reading a file in two parts gives the same readings as reading it whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contest.errors import CsvFormatError
from ingest.csv_parse import ParsedCsv, parse_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"
FILES = sorted(DATA.glob("*.csv"))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(data: bytes, **kwargs: object) -> ParsedCsv | None:
    """parse_csv's result, or None when it refused the file with CsvFormatError (anything else fails)."""
    try:
        parsed = parse_csv(data, **kwargs)  # type: ignore[arg-type]
    except CsvFormatError as exc:
        assert str(exc) and exc.key
        return None
    check_invariants(parsed)
    return parsed


def check_invariants(parsed: ParsedCsv) -> None:
    readings = parsed.readings
    assert list(readings.columns) == ["ts_utc", "energy_kwh", "kind", "duration_s", "line_no"]
    assert str(readings["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert readings["ts_utc"].notna().all() and readings["ts_utc"].is_monotonic_increasing
    assert np.isfinite(readings["energy_kwh"]).all()
    assert parsed.rows_read == len(readings) + len(parsed.rejections)
    lines = [r.line_no for r in parsed.rejections]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    assert not set(lines) & set(readings["line_no"])
    assert all(r.reason and r.key.startswith("csv.") for r in parsed.rejections)
    if parsed.dialect.kind == "interval":
        assert (readings["energy_kwh"] >= 0).all() and (readings["duration_s"] > 0).all()
        assert (readings["kind"] == "interval").all()
    else:
        assert readings["duration_s"].isna().all() and (readings["kind"] == "register").all()


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_parse_or_raise_csv_format_error(data: bytes) -> None:
    parse_or_refuse(data)


_CELLS = st.sampled_from(
    [
        "Datum",
        "Zeitstempel",
        "Uhrzeit",
        "Messzeitpunkt",
        "Zählerstand (kWh)",
        "Verbrauch [Wh]",
        "Wert",
        "Einheit",
        "kWh",
        "Wh",
        "MWh",
        "m³",
        "W",
        "Qualität",
        "1-0:1.8.0",
        "Obiscode",
        "Gas",
        "Hour Start",
        "Date/time UTC",
        "01.01.2025 00:00",
        "01.01.2025 00:15",
        "26.10.2025 02:00",
        "30.03.2025 02:30",
        "2025-01-01T00:00:00Z",
        "2025-01-01 00:00",
        "2025-10-26T02:00:00+02:00",
        "01.01.2025",
        "00:15",
        "1700000000",
        "1,5",
        "1.234,5",
        "0.25",
        "-3",
        "NaN",
        "",
        "-",
        "x",
        '"',
        "#",
        "sep=;",
        "1e400",
        "31.02.2025 00:00",
        "99.99.9999 99:99",
    ]
)
_LINES = st.lists(_CELLS, min_size=1, max_size=6)


@SETTINGS
@given(
    st.lists(_LINES, min_size=1, max_size=25),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["electricity", "gas", "heat"]),
)
def test_csv_like_text_parses_or_raises_csv_format_error(
    lines: list[list[str]], separator: str, newline: str, carrier: str
) -> None:
    text = newline.join(separator.join(cells) for cells in lines)
    parse_or_refuse(text.encode("utf-8"), carrier=carrier)


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A file of tests/data/csv with lines deleted, duplicated or swapped and bytes flipped."""
    lines = draw(st.sampled_from(FILES)).read_bytes().split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "flip", "insert"]))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip" and lines and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            mask = draw(st.integers(1, 255))
            line = bytearray(lines[i])
            line[k] ^= mask
            lines[i] = bytes(line)
        elif op == "insert":
            lines.insert(i, draw(st.binary(max_size=40)))
    return b"\n".join(lines)


@SETTINGS
@given(mutated_files(), st.sampled_from(["electricity", "gas", "heat"]))
def test_mutated_samples_parse_or_raise_csv_format_error(data: bytes, carrier: str) -> None:
    parse_or_refuse(data, carrier=carrier)


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(header, data lines) of a well-formed file in one of the supported dialects, in winter (no DST)."""
    style = draw(st.sampled_from(["de_register", "de_interval", "en_interval", "en_register_utc"]))
    n = draw(st.integers(4, 40))
    step = dt.timedelta(minutes=draw(st.sampled_from([15, 60])))
    start = dt.datetime(2025, 1, 1) + dt.timedelta(days=draw(st.integers(0, 40)))
    amounts = draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))
    if style.endswith("register") or style.endswith("register_utc"):
        base = draw(st.integers(1000, 9_000_000))
        values = list(np.cumsum([base, *[a + 1 for a in amounts[1:]]]) / 1000)
    else:
        values = [a / 1000 for a in amounts]
    stamps = [start + k * step for k in range(n)]
    if style == "de_register":
        header = "Datum;Zählerstand (kWh)"
        rows = [f"{s:%d.%m.%Y %H:%M};{_german(v)}" for s, v in zip(stamps, values, strict=True)]
    elif style == "de_interval":
        header = "Messzeitpunkt;Verbrauch (kWh);Qualität"
        rows = [f"{s:%d.%m.%Y %H:%M};{_german(v)};L1" for s, v in zip(stamps, values, strict=True)]
    elif style == "en_interval":
        header = "time,consumption [Wh]"
        rows = [f"{s:%Y-%m-%d %H:%M},{v * 1000:.0f}" for s, v in zip(stamps, values, strict=True)]
    else:
        header = "timestamp,meter reading (kWh)"
        rows = [f"{s:%Y-%m-%dT%H:%M:%S}Z,{v:.3f}" for s, v in zip(stamps, values, strict=True)]
    return header, rows


def _german(value: float) -> str:
    return f"{value:,.3f}".replace(",", "_").replace(".", ",").replace("_", ".")


@SETTINGS
@given(valid_files(), st.data())
def test_file_split_in_two_gives_the_same_readings(file: tuple[str, list[str]], data: st.DataObject) -> None:
    """Whole file == first part + second part (header repeated), line numbers shifted by the split."""
    header, rows = file
    k = data.draw(st.integers(2, len(rows) - 2))
    whole = parse_csv(("\n".join([header, *rows]) + "\n").encode())
    first = parse_csv(("\n".join([header, *rows[:k]]) + "\n").encode())
    second = parse_csv(("\n".join([header, *rows[k:]]) + "\n").encode())
    assert whole.rejections == first.rejections == second.rejections == ()
    shifted = second.readings.assign(line_no=second.readings["line_no"] + k)
    union = pd.concat([first.readings, shifted], ignore_index=True).sort_values("ts_utc", ignore_index=True)
    pd.testing.assert_frame_equal(union, whole.readings)
    assert first.dialect == second.dialect == whole.dialect
