"""What the portal checks of an uploaded file before the importer parses it, and the name it keeps."""

from __future__ import annotations

from contest.errors import IngestError

#: Bytes that never occur in a text CSV; their presence means a binary file (zip, xlsx, pdf, image).
_BINARY_MARKERS = (b"\x00", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8\xff")
#: Byte order marks of UTF-16 (little and big endian).
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Longest file name kept with an import [characters] (the database holds 300).
FILENAME_MAX_CHARS = 200


def check_upload(data: bytes, max_bytes: int) -> None:
    """Refuse files that cannot be a CSV before parsing, with a message for the household."""
    if not data.strip():
        raise IngestError("the file is empty", key="upload.empty")
    if len(data) > max_bytes:
        mb = max_bytes // (1024 * 1024)
        raise IngestError(f"the file is larger than {mb} MB", key="upload.too_large", params={"mb": mb})
    head = data[:4096]
    # UTF-16 text (Excel's "Unicode text", with its BOM) is full of NUL bytes; the importer decodes it.
    markers = _BINARY_MARKERS[1:] if data.startswith(_UTF16_BOMS) else _BINARY_MARKERS
    if any(marker in head for marker in markers):
        raise IngestError("not a CSV file: binary content such as Excel, ZIP or PDF", key="upload.binary")


def upload_filename(name: str | None) -> str | None:
    """The name an uploaded file is shown and stored with: without folders or control characters,
    at most :data:`FILENAME_MAX_CHARS` long (the end, with the extension, is kept)."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(clean) > FILENAME_MAX_CHARS:
        clean = "…" + clean[-(FILENAME_MAX_CHARS - 1) :]
    return clean or None
