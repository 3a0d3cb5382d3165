"""Benchmark: the project's CSV import end to end against a bare pandas.read_csv + SQLite bulk insert.

Generates a CSV of N rows (default 1,000,000 one-minute readings), then measures in the same run:
  (a) project: CsvImporter.import_file into a fresh, migrated SQLite database (parse, detect, normalize,
      validate, store with the duplicate key, rebuild the meter's daily consumption);
  (b) bare:    pandas.read_csv of the same file with the dialect given explicitly (sep, decimal,
      thousands) + executemany of the rows as read (timestamp text, value) into a fresh SQLite table.
Prints both times and the ratio a/b (target: <= 2). Run: .venv/bin/python bench/csv_import.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from ingest.importer import CsvImporter

START = pd.Timestamp("2024-01-01 00:00")


def write_file(path: Path, rows: int, dialect: str) -> None:
    rng = np.random.default_rng(1)
    # Local wall-clock minutes of Europe/Berlin (as a German export has them), DST-correct: the spring
    # hour does not exist and the autumn hour appears twice, in order.
    stamps = pd.date_range(START.tz_localize("Europe/Berlin"), periods=rows, freq="min")
    if dialect == "de":
        # German register: dd.mm.yyyy HH:MM, decimal comma, thousands points, kWh.
        register = 10_000 + np.cumsum(rng.uniform(0.001, 0.02, rows))
        text = pd.Series(register).map("{:,.3f}".format).str.replace(",", "X").str.replace(".", ",")
        text = text.str.replace("X", ".")
        frame = pd.DataFrame({"Datum": stamps.strftime("%d.%m.%Y %H:%M"), "Zählerstand (kWh)": text})
        frame.to_csv(path, sep=";", index=False)
    else:
        # English interval: ISO-8601 UTC with Z, decimal point, Wh per minute.
        utc = stamps.tz_convert("UTC")
        frame = pd.DataFrame(
            {
                "Interval start": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Consumption (Wh)": rng.uniform(1, 20, rows).round(2),
            }
        )
        frame.to_csv(path, index=False)


def bare(path: Path, db_path: Path, dialect: str) -> float:
    """pandas.read_csv with the dialect given, then the rows as read into a fresh table, one transaction."""
    t0 = time.perf_counter()
    if dialect == "de":
        df = pd.read_csv(path, sep=";", decimal=",", thousands=".", encoding="utf-8")
    else:
        df = pd.read_csv(path)
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")  # the same pragmas the project uses
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE reading (ts TEXT, energy REAL)")
    with con:
        con.executemany(
            "INSERT INTO reading VALUES (?, ?)", zip(*(df[c].tolist() for c in df.columns), strict=True)
        )
    con.close()
    return time.perf_counter() - t0


CONTEST = """
[contest]
slug = "bench"
name = "Benchmark"
baseline = {{ start = 2023-01-01, end = 2023-12-31 }}
competition = {{ start = 2024-01-01, end = {end} }}
[[households]]
pseudonym = "bench"
meters = [{{ id = "M1", kind = "{kind}" }}]
"""


def project(path: Path, db_path: Path, rows: int, dialect: str) -> float:
    db = Database(f"sqlite:///{db_path}")
    end = (START + pd.Timedelta(minutes=rows) + pd.Timedelta(days=2)).date()
    kind = "register" if dialect == "de" else "interval"
    with db.session() as session:
        ContestService(session).setup(parse_contest_config(CONTEST.format(end=end, kind=kind)))
    importer = CsvImporter(db)
    t0 = time.perf_counter()
    report = importer.import_file(path, "M1")
    elapsed = time.perf_counter() - t0
    assert report.rows_stored == rows and report.rows_rejected == 0, report
    db.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dialect", choices=["de", "en", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    args = parser.parse_args()
    dialects = ["de", "en"] if args.dialect == "both" else [args.dialect]
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}  rows={args.rows:,}  python={sys.version.split()[0]}  "
        f"pandas={pd.__version__}  sqlite={sqlite3.sqlite_version}"
    )
    for dialect in dialects:
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / f"bench_{dialect}.csv"
            write_file(csv, args.rows, dialect)
            b_times, a_times = [], []
            for i in range(args.repeat):
                b_times.append(bare(csv, Path(tmp) / f"bare{i}.sqlite3", dialect))
                a_times.append(project(csv, Path(tmp) / f"project{i}.sqlite3", args.rows, dialect))
            a, b = min(a_times), min(b_times)
            size_mb = csv.stat().st_size / 1e6
            print(
                f"[{dialect}] file {size_mb:.1f} MB | bare read_csv+insert {b:.2f} s ({args.rows / b / 1e6:.2f} M rows/s)"
                f" | project import {a:.2f} s ({args.rows / a / 1e6:.2f} M rows/s) | ratio a/b = {a / b:.2f}"
                f" (target <= 2.00)"
            )


if __name__ == "__main__":
    main()
