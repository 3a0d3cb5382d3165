"""Domain values for readings crossing from ingest into storage: the frame schema and rejections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scoring.schema import (  # re-exported: ingest and web use the names from here
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

__all__ = [
    "DIRECTION_EXPORT",
    "DIRECTION_IMPORT",
    "DURATION_S",
    "ENERGY_KWH",
    "KIND",
    "KIND_INTERVAL",
    "KIND_REGISTER",
    "LINE_NO",
    "READING_COLUMNS",
    "TS_UTC",
    "DeviceReading",
    "Rejection",
    "validate_readings",
]


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


#: Direction of an energy register: what the household takes from the grid (1.8.x) or feeds in (2.8.x).
DIRECTION_IMPORT = "import"
DIRECTION_EXPORT = "export"


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One energy value parsed from a device message (MQTT), before it is bound to a meter.

    device: device id as the topic names it (``tasmota_DC0386``, ``shellyem3-8CAAB5619A0A``, emonhub node)
    channel: which register of the device (``1.8.0``, ``Total_in``, ``emeter/0/total``, ``em1data:0``);
        a device with several registers publishes several channels
    ts_utc: the device's own time of the value [UTC, aware]; None when the message carries no usable
        time (the worker then stamps the broker's receive time)
    energy_kwh: register value [kWh] (kind "register") or energy in the interval [kWh] ("interval")
    kind: "register" | "interval"
    direction: "import" (consumption, OBIS 1.8.x) | "export" (feed-in, OBIS 2.8.x)
    duration_s: interval length [s] for interval values, else None
    assumed_unit: the unit the parser assumed because the message states none (vzlogger ``kWh``, OBIS
        topics ``Wh``); a device binding's unit replaces it. None: the message stated its unit.
    """

    device: str
    channel: str
    ts_utc: datetime | None
    energy_kwh: float
    kind: str = KIND_REGISTER
    direction: str = DIRECTION_IMPORT
    duration_s: float | None = None
    assumed_unit: str | None = None

    def __post_init__(self) -> None:
        if self.ts_utc is not None and self.ts_utc.tzinfo is None:
            raise ValueError("DeviceReading.ts_utc must be aware (UTC)")
        if self.kind not in (KIND_REGISTER, KIND_INTERVAL):
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.direction not in (DIRECTION_IMPORT, DIRECTION_EXPORT):
            raise ValueError(f"unknown direction {self.direction!r}")
