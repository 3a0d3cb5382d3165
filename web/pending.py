"""Uploads waiting for the household's confirmation, kept on disk between preview and import."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from contest.errors import PermissionDenied

MAX_AGE_S = 3600


@dataclass(frozen=True, slots=True)
class PendingUpload:
    token: str
    household_id: int
    meter_external_id: str
    filename: str | None
    data: bytes


class PendingUploads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def put(self, household_id: int, meter_external_id: str, filename: str | None, data: bytes) -> str:
        self._expire()
        token = secrets.token_urlsafe(18)
        self._write(PendingUpload(token, household_id, meter_external_id, filename, data))
        return token

    def restore(self, pending: PendingUpload) -> None:
        """Put back an upload taken for an import that failed, under the same token."""
        self._write(pending)

    def _write(self, p: PendingUpload) -> None:
        (self.directory / f"{p.token}.bin").write_bytes(p.data)
        meta = {"household_id": p.household_id, "meter": p.meter_external_id, "filename": p.filename}
        (self.directory / f"{p.token}.json").write_text(json.dumps(meta), encoding="utf-8")

    def take(self, token: str, household_id: int) -> PendingUpload:
        """The pending upload, removed from the store; only for the household that uploaded it."""
        if not token.replace("-", "").replace("_", "").isalnum():
            raise PermissionDenied("upload not found", key="upload.not_found")
        meta_path = self.directory / f"{token}.json"
        data_path = self.directory / f"{token}.bin"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = data_path.read_bytes()
        except (OSError, ValueError) as exc:
            raise PermissionDenied("upload not found or expired", key="upload.not_found") from exc
        if int(meta["household_id"]) != household_id:
            raise PermissionDenied("upload not found", key="upload.not_found")
        meta_path.unlink(missing_ok=True)
        data_path.unlink(missing_ok=True)
        return PendingUpload(token, household_id, str(meta["meter"]), meta.get("filename"), data)

    def _expire(self) -> None:
        cutoff = time.time() - MAX_AGE_S
        for path in self.directory.glob("*.*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                pass
