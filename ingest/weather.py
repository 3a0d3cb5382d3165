"""Daily mean temperatures from weather files: bytes in, a (day, temp_c) frame out. Pure parsers.

- :func:`parse_dwd_daily`: the German weather service's (DWD) daily climate product
  ``produkt_klima_tag_<from>_<to>_<station>.txt`` (``;``-separated, padded with spaces, ``MESS_DATUM`` as
  yyyymmdd, daily mean temperature ``TMK`` in °C, -999 for a missing value)
- :func:`parse_temperature_csv`: a plain two-column CSV (date, °C) in German (``;``, ``dd.mm.yyyy``,
  decimal comma) or English (``,``, ISO dates, decimal point) dialect

Both return the columns of scoring's weather frame (``day`` as naive ``datetime64[us]``,
``temp_c`` [°C], NaN for a missing value), sorted by day; input that cannot be used at all raises
:class:`contest.errors.IngestError` with a message naming the problem.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import numpy.typing as npt
import pandas as pd

from contest.errors import IngestError

# The columns of scoring's weather frame (scoring.schema.WEATHER_COLUMNS). Ingest takes the project's
# column names from contest.readings, which does not re-export these yet; a test keeps them equal.
DAY = "day"  # local calendar day, naive datetime64[us] at midnight
TEMP_C = "temp_c"  # daily mean air temperature [°C]

#: DWD writes this for a missing value.
DWD_MISSING = -999.0
#: DWD column with the station number, the day, and the daily mean air temperature at 2 m [°C].
DWD_STATION, DWD_DATE, DWD_MEAN_TEMP = "STATIONS_ID", "MESS_DATUM", "TMK"
STATION_ID = "station_id"

_DATE_HEADERS = ("date", "day", "datum", "tag", "mess_datum")
_TEMP_HEADERS = (
    "temp_c",
    "temperature",
    "temperatur",
    "tmk",
    "lufttemperatur",
    "mean_temperature",
    "tagesmittel",
)
_DATE_FORMATS = {
    re.compile(r"^\d{4}-\d{2}-\d{2}$"): "%Y-%m-%d",
    re.compile(r"^\d{2}\.\d{2}\.\d{4}$"): "%d.%m.%Y",
    re.compile(r"^\d{8}$"): "%Y%m%d",
    re.compile(r"^\d{2}/\d{2}/\d{4}$"): "%d/%m/%Y",
}


def parse_dwd_daily(data: bytes) -> pd.DataFrame:
    """Daily mean temperatures of one DWD station from a ``produkt_klima_tag_*.txt`` file.

    data: the file's bytes (ASCII/Latin-1, as the DWD open-data server ships it inside the zip)

    returns: day (naive ``datetime64[us]``), temp_c [°C] (NaN where DWD has -999), station_id
    raises: :class:`IngestError` when the file is empty, lacks ``MESS_DATUM``/``TMK``, has a day or a
        temperature that cannot be read, repeats a day, or mixes stations
    """
    text = _decode(data, "DWD file")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=";", skipinitialspace=True, dtype=str)
    except (ValueError, pd.errors.ParserError) as exc:
        raise IngestError(
            f"DWD file: cannot be read as ';'-separated text: {exc}", key="weather.unreadable"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in (DWD_DATE, DWD_MEAN_TEMP) if c not in frame.columns]
    if missing:
        raise IngestError(
            f"DWD file: column(s) {', '.join(missing)} missing; is this a produkt_klima_tag file? "
            f"Found {list(frame.columns)[:20]}",
            key="weather.missing_column",
        )
    if frame.empty:
        raise IngestError("DWD file: no data rows", key="weather.empty")
    dates = frame[DWD_DATE].str.strip()
    days = pd.to_datetime(dates, format="%Y%m%d", errors="coerce")
    if days.isna().any():
        row = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise IngestError(
            f"DWD file, data row {row + 1}: {DWD_DATE} {dates.iloc[row]!r} is not a day as yyyymmdd",
            key="weather.bad_date",
        )
    temp = _numbers(frame[DWD_MEAN_TEMP], decimal=".", what=f"DWD file, {DWD_MEAN_TEMP}")
    temp[np.isclose(temp, DWD_MISSING)] = np.nan
    out = pd.DataFrame({DAY: days.dt.as_unit("us").to_numpy(), TEMP_C: temp})
    if DWD_STATION in frame.columns:
        stations = frame[DWD_STATION].str.strip()
        if stations.nunique() > 1:
            raise IngestError(
                f"DWD file: holds {stations.nunique()} stations ({', '.join(sorted(stations.unique())[:5])}); "
                "give one station's file",
                key="weather.several_stations",
            )
        out[STATION_ID] = stations.to_numpy()
    return _finish(out, "DWD file")


def parse_temperature_csv(data: bytes) -> pd.DataFrame:
    """Daily mean temperatures from a two-column CSV: a date and a temperature in °C.

    German dialect: ``Datum;Temperatur`` with ``01.01.2024;3,5``; English: ``date,temp_c`` with
    ``2024-01-01,3.5``. The header names the columns (date/day/Datum/Tag, temp_c/temperature/Temperatur/
    TMK; units such as "(°C)" are ignored); dates are ISO, dd.mm.yyyy, yyyymmdd or dd/mm/yyyy; an empty
    cell is a missing value.

    returns: day (naive ``datetime64[us]``), temp_c [°C]
    raises: :class:`IngestError` for an empty file, a header without date or temperature column, a
        temperature in °F, a date or value that cannot be read, or a repeated day
    """
    text = _decode(data, "temperature CSV")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise IngestError("temperature CSV: the file is empty", key="weather.empty")
    try:
        delimiter = csv.Sniffer().sniff(lines[0], delimiters=";,\t").delimiter
    except csv.Error:
        delimiter = ";" if ";" in lines[0] else ","
    decimal = "," if delimiter in ";\t" else "."
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines)), sep=delimiter, dtype=str, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise IngestError(f"temperature CSV: cannot be read: {exc}", key="weather.unreadable") from exc
    headers = {_header_key(c): c for c in frame.columns}
    if any("°f" in str(c).lower() or "fahrenheit" in str(c).lower() for c in frame.columns):
        raise IngestError("temperature CSV: temperatures in °F; give them in °C", key="weather.fahrenheit")
    date_col = next((headers[h] for h in _DATE_HEADERS if h in headers), None)
    temp_col = next((headers[h] for h in headers if h.startswith(_TEMP_HEADERS)), None)
    if date_col is None or temp_col is None:
        raise IngestError(
            "temperature CSV: needs a date column (date, day, Datum, Tag) and a temperature column "
            f"(temp_c, temperature, Temperatur, TMK); found {list(frame.columns)}",
            key="weather.missing_column",
        )
    if frame.empty:
        raise IngestError("temperature CSV: no data rows", key="weather.empty")
    dates = frame[date_col].fillna("").str.strip()
    fmt = next((f for pattern, f in _DATE_FORMATS.items() if pattern.match(dates.iloc[0])), None)
    if fmt is None:
        raise IngestError(
            f"temperature CSV, data row 1: {dates.iloc[0]!r} is not a date (yyyy-mm-dd, dd.mm.yyyy, yyyymmdd)",
            key="weather.bad_date",
        )
    days = pd.to_datetime(dates, format=fmt, errors="coerce")
    if days.isna().any():
        row = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise IngestError(
            f"temperature CSV, data row {row + 1}: {dates.iloc[row]!r} is not a date like the first row's",
            key="weather.bad_date",
        )
    temp = _numbers(frame[temp_col], decimal=decimal, what=f"temperature CSV, {temp_col}")
    return _finish(pd.DataFrame({DAY: days.dt.as_unit("us").to_numpy(), TEMP_C: temp}), "temperature CSV")


def _decode(data: bytes, what: str) -> str:
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise IngestError(f"{what}: the file is empty", key="weather.empty")
    if b"\x00" in data:
        raise IngestError(f"{what}: the file is binary, not text", key="weather.not_text")
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        return bytes(data).decode("latin-1")


def _header_key(column: object) -> str:
    key = str(column).strip().lower()
    key = re.sub(r"[\[(]?\s*°\s*c\s*[\])]?", "", key)  # "(°C)", "[°C]", "°C"
    return re.sub(r"\s+", "_", key.strip(" _"))


def _numbers(column: pd.Series, *, decimal: str, what: str) -> npt.NDArray[np.float64]:
    text = column.fillna("").astype(str).str.strip()
    if decimal == ",":
        # Temperatures have no thousands separators, so a point stays a decimal point.
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(
            f"{what}, data row {row + 1}: {column.iloc[row]!r} is not a number", key="weather.bad_value"
        )
    return np.array(values.to_numpy(dtype=np.float64, na_value=np.nan))  # a writable copy


def _finish(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    repeated = frame[DAY].duplicated()
    if repeated.any():
        day = pd.Timestamp(frame.loc[repeated, DAY].iloc[0]).date()
        raise IngestError(f"{what}: the day {day} appears more than once", key="weather.repeated_day")
    return frame.sort_values(DAY, kind="stable").reset_index(drop=True)
