"""CSV cells the app writes never start a formula in Excel or LibreOffice; data stays readable."""

from __future__ import annotations

import csv
import io

import pytest

from contest.spreadsheet import safe_cell, write_csv


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1",
        "  =1+1",
        "＝1+1",  # full-width equals sign: LibreOffice reads it as a formula too
    ],
)
def test_text_that_would_start_a_formula_is_shown_as_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Amsel", "-3.5", "+49", "1,5", "2026-01-21T00:00:00+00:00", 12.5, -1, None, True]
)
def test_other_values_stay_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_write_csv_escapes_every_cell_and_quotes_separators() -> None:
    text = write_csv(["=head", "b"], [["=1+1", "a;b"], [-2.5, "@x"]])
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [["'=head", "b"], ["'=1+1", "a;b"], ["-2.5", "'@x"]]
