"""Uploaded CSV bytes to text: encoding and BOM detection, line endings, refusal of binary data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contest.errors import CsvFormatError

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# C0 control bytes that never occur in a text export (tab, LF, FF, CR and the DOS EOF mark 0x1A are allowed).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26)) + b"\x7f"
# Bytes left undefined by Windows-1252; a file holding them is read as Latin-1 instead.
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_HIGH_BYTES = bytes(range(0x80, 0x100))
_SNIFF_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class CsvBytes:
    """A CSV file ready for pandas.

    data: the file as pandas reads it (BOM removed, UTF-16 transcoded to UTF-8, lone CR turned into LF)
    encoding: encoding as detected, for the user ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16")
    codec: Python codec that decodes ``data``
    """

    data: bytes
    encoding: str
    codec: str


def decode_csv_bytes(raw: bytes) -> CsvBytes:
    """Detect the encoding of ``raw``; refuse files that are empty or not text (:class:`CsvFormatError`)."""
    if not raw.strip():
        raise CsvFormatError("the file is empty", key="csv.empty_file")
    if raw.startswith(_UTF16_BOMS):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CsvFormatError(
                "the file is not text: it starts like UTF-16 but does not decode as UTF-16",
                key="csv.not_text",
            ) from exc
        # Excel's "Unicode text" export; pandas and the line scan work on UTF-8 bytes.
        return _finish(text.encode("utf-8"), "utf-16", "utf-8")
    if b"\x00" in raw:
        raise CsvFormatError("the file is binary, not text (it contains NUL bytes)", key="csv.not_text")
    head = raw[:65536]
    if len(head) - len(head.translate(None, _CONTROL_BYTES)) > max(2, len(head) // 100):
        raise CsvFormatError(
            "the file is binary, not text (it contains control characters)", key="csv.not_text"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if raw.startswith(_UTF8_BOM):
            return _finish(raw[len(_UTF8_BOM) :], "utf-8-sig", "utf-8")
        return _finish(raw, "utf-8", "utf-8")
    # Not UTF-8: German exports from Windows tools are Windows-1252. Random bytes also "decode" as a
    # single-byte code page, so a file that is mostly high bytes is refused as binary.
    high = len(head) - len(head.translate(None, _HIGH_BYTES))
    if high > len(head) * 0.3:
        raise CsvFormatError(
            "the file is not text: it is neither UTF-8 nor a Windows/Latin-1 text file", key="csv.not_text"
        )
    if any(bytes([byte]) in raw for byte in _CP1252_UNDEFINED):
        return _finish(raw, "latin-1", "latin-1")
    return _finish(raw, "cp1252", "cp1252")


def _finish(data: bytes, encoding: str, codec: str) -> CsvBytes:
    # pandas splits lines at CR, LF and CRLF; the line scan here only at LF. Files with lone CRs
    # (old Mac exports) are normalized so that both count the same physical lines.
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return CsvBytes(data=data, encoding=encoding, codec=codec)


def count_lines(data: bytes) -> int:
    """Number of physical lines in ``data`` (a last line without LF counts, the empty rest after LF not)."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def sample_lines(csv_bytes: CsvBytes, max_lines: int = 200) -> list[str]:
    """The first ``max_lines`` physical lines as text, without line endings (for sniffing the dialect)."""
    head = csv_bytes.data[:_SNIFF_BYTES]
    if len(csv_bytes.data) > len(head):
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut >= 0 else head
    text = head.decode(csv_bytes.codec, errors="replace")
    # str.split, not splitlines: splitlines also breaks at FF, VT and U+2028, which pandas does not.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines[:max_lines]]


def line_starts(data: bytes) -> npt.NDArray[np.int64]:
    """Byte offset where each physical line of ``data`` starts."""
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    if data.endswith(b"\n"):
        starts = starts[:-1]
    return starts


def line_text(csv_bytes: CsvBytes, starts: npt.NDArray[np.int64], line_index: int) -> str:
    """Text of the physical line with 0-based index ``line_index`` (without its line ending)."""
    begin = int(starts[line_index])
    end = int(starts[line_index + 1]) if line_index + 1 < len(starts) else len(csv_bytes.data)
    return csv_bytes.data[begin:end].decode(csv_bytes.codec, errors="replace").rstrip("\r\n")
