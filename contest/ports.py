"""Interfaces the web app needs from ingest; the CLI hands in the implementation (web never imports ingest)."""

from __future__ import annotations

from typing import Protocol

from contest.domain import ImportReport, UploadPreview


class CsvImportPort(Protocol):
    def preview(self, data: bytes, meter_external_id: str, *, filename: str | None = None) -> UploadPreview:
        """Parse without storing; raises IngestError (with a message for the household) for unusable files."""
        ...

    def import_bytes(
        self, data: bytes, meter_external_id: str, *, filename: str | None = None
    ) -> ImportReport:
        """Parse and store in one transaction."""
        ...
