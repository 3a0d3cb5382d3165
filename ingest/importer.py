"""CSV import end to end: parse the bytes for a meter, then store through the contest services."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

from contest.db import Database
from contest.domain import ImportReport
from contest.errors import CsvFormatError
from contest.services import MeterService, ReadingService
from ingest.csv_parse import ParsedCsv, parse_csv


class CsvImporter:
    """Imports household CSV files; the web upload page and ``contest import`` both use this."""

    def __init__(self, db: Database) -> None:
        self.meters = MeterService(db)
        self.readings = ReadingService(db)

    def preview(self, data: bytes, meter_external_id: str) -> ParsedCsv:
        """Parse without storing (what the upload page shows before the household confirms)."""
        ctx = self.meters.import_context(meter_external_id)
        return parse_csv(data, tz=ctx.timezone, carrier=ctx.carrier, gas=ctx.gas)

    def import_bytes(self, data: bytes, meter_external_id: str, *, filename: str | None = None) -> ImportReport:
        """Parse ``data`` and store it for the meter in one transaction; bad rows become rejected records."""
        ctx = self.meters.import_context(meter_external_id)
        parsed = parse_csv(data, tz=ctx.timezone, carrier=ctx.carrier, gas=ctx.gas)
        details = {"dialect": asdict(parsed.dialect)}
        return self.readings.store(
            ctx,
            parsed.readings,
            parsed.rejections,
            source="csv",
            rows_read=parsed.rows_read,
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            details=details,
        )

    def import_file(self, path: str | Path, meter_external_id: str) -> ImportReport:
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise CsvFormatError(f"cannot read {p}: {exc.strerror}") from exc
        return self.import_bytes(data, meter_external_id, filename=p.name)
