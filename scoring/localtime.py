"""Local calendar days of the contest's time zone: checked zone names, aware instants, DST-safe day starts."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import numpy.typing as npt
import pandas as pd

NS_PER_S = 1_000_000_000


def require_tz(tz: str) -> None:
    """Raise ``ValueError`` unless ``tz`` names an IANA time zone (e.g. ``"Europe/Berlin"``)."""
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"time zone must be an IANA name such as 'Europe/Berlin', got {tz!r}")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Berlin'") from exc


def aware_utc(moment: pd.Timestamp | dt.datetime, what: str) -> pd.Timestamp:
    """Return ``moment`` as a tz-aware UTC timestamp; a naive moment is an input error (``ValueError``).

    what: name of the parameter, for the message
    """
    stamp = pd.Timestamp(moment)
    if stamp is pd.NaT:
        raise ValueError(f"{what} must be a tz-aware time, got NaT")
    if stamp.tzinfo is None:
        raise ValueError(
            f"{what} must be tz-aware (e.g. pd.Timestamp('2024-03-01T12:00', tz='UTC')), got naive {stamp}; "
            "a naive time would be a silent guess about its zone"
        )
    return stamp.tz_convert("UTC")


def local_date(moment_utc: pd.Timestamp, tz: str) -> dt.date:
    """Calendar date of ``moment_utc`` (tz-aware) in the zone ``tz``."""
    local: dt.date = moment_utc.tz_convert(tz).date()
    return local


def day_starts_utc_ns(first_day: dt.date, n_days: int, tz: str) -> npt.NDArray[np.int64]:
    """Start instants of ``n_days`` consecutive local days from ``first_day`` as UTC epoch [ns].

    Built by localizing local midnights (never by adding 24 h to aware times), so DST switch days are
    23 h or 25 h long. A midnight that does not exist in the zone shifts forward to the first instant
    that does; an ambiguous midnight takes its first occurrence.
    """
    days = pd.date_range(pd.Timestamp(first_day), periods=n_days, freq="D", unit="ns")
    aware = days.tz_localize(tz, ambiguous=np.ones(n_days, dtype=bool), nonexistent="shift_forward")
    starts: npt.NDArray[np.int64] = np.asarray(aware.tz_convert("UTC").asi8, dtype=np.int64)
    return starts
