"""Domain values for readings crossing from ingest into storage: the frame schema and rejections."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.schema import (  # noqa: F401  (re-exported: ingest and web use the names from here)
    DURATION_S,
    ENERGY_KWH,
    KIND,
    KIND_INTERVAL,
    KIND_REGISTER,
    LINE_NO,
    READING_COLUMNS,
    TS_UTC,
    validate_readings,
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input record that could not be used, kept with why.

    line_no: 1-based line in the source file (None for MQTT)
    raw: the record as it was received (the CSV line, the payload)
    reason: human-readable English reason, e.g. "register went backwards from 1234.5 to 1200.0 kWh"
    key: stable machine-readable key, e.g. "csv.register_backwards"
    """

    line_no: int | None
    raw: str
    reason: str
    key: str = "ingest.rejected"
