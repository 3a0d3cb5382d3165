"""Ranks as the leaderboard shows them: by the savings fraction rounded to 0.1 percentage point, highest
first, equal shown values sharing a rank (1, 2, 2, 4); and which ranked neighbours are statistically tied."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from scoring.schema import (
    RANK,
    SAVINGS_FRACTION_DECIMALS,
    SAVINGS_FRACTION_HIGH,
    SAVINGS_FRACTION_LOW,
    STATISTICALLY_TIED,
    STATUS,
    STATUS_RANKED,
)
from scoring.uncertainty import statistically_tied

_Array = np.ndarray[Any, Any]


def shown_savings_fraction(fraction: float) -> float:
    """The savings fraction as the leaderboard shows it: rounded to 0.1 percentage point.

    Ranks compare these values, so two entries shown with the same percentage share a rank. Show it as
    ``f"{shown_savings_fraction(f) * 100:.1f} %"``. NaN stays NaN.
    """
    if fraction is None or math.isnan(fraction):
        return math.nan
    return round(float(fraction), SAVINGS_FRACTION_DECIMALS)


def ranks(fraction: pd.Series, ranked: _Array) -> pd.Series:
    """Ranks of the ranked entries by shown savings fraction, highest first; ties share the lowest rank."""
    shown = fraction.where(pd.Series(ranked, index=fraction.index)).map(shown_savings_fraction)
    return shown.rank(method="min", ascending=False).astype("Int64")


def category_ranks(fraction: pd.Series, ranked: _Array, category: pd.Series) -> pd.Series:
    """Ranks within each category (as :func:`ranks`); NA without a category or when not ranked."""
    in_category = ranked & category.notna().to_numpy()
    shown = fraction.where(pd.Series(in_category, index=fraction.index)).map(shown_savings_fraction)
    result = shown.groupby(category.to_numpy(dtype=object), dropna=True).rank(method="min", ascending=False)
    return result.reindex(fraction.index).astype("Int64")


def in_rank_order(table: pd.DataFrame, id_column: str, tie_overlap_fraction: float) -> pd.DataFrame:
    """``table`` sorted by rank, then ``id_column``, unranked last, with ``statistically_tied`` set
    (:func:`scoring.uncertainty.statistically_tied` on the savings-fraction intervals)."""
    ordered = table.sort_values([RANK, id_column], na_position="last", kind="stable").reset_index(drop=True)
    ordered[STATISTICALLY_TIED] = statistically_tied(
        (ordered[STATUS] == STATUS_RANKED).to_numpy(),
        ordered[SAVINGS_FRACTION_LOW].to_numpy(dtype=np.float64),
        ordered[SAVINGS_FRACTION_HIGH].to_numpy(dtype=np.float64),
        tie_overlap_fraction,
    )
    return ordered
