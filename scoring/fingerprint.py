"""A stable fingerprint of a score run's inputs: sha256 over canonical bytes, independent of row order.

Each part is named and length-prefixed, so parts cannot run into each other. Frames become canonical
CSV (rows sorted by a key, columns sorted by name); arrays contribute their dtype, shape and bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Changes when the canonical form changes, so old and new fingerprints never match by accident.
FINGERPRINT_VERSION = b"scoring-input-fingerprint/1"


def frame_bytes(frame: pd.DataFrame, sort_by: list[str]) -> bytes:
    """Canonical CSV of ``frame``: rows sorted by ``sort_by`` (stable), columns by name, floats in full
    precision (17 significant digits), ``\\n`` line ends."""
    ordered = frame.sort_values(sort_by, kind="stable") if len(frame) else frame
    ordered = ordered[sorted(map(str, ordered.columns))] if len(ordered.columns) else ordered
    text: str = ordered.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return text.encode("utf-8")


def array_bytes(array: npt.ArrayLike) -> bytes:
    """sha256 digest of a numpy array's dtype, shape and bytes (C order), hashed in place without a copy,
    so large arrays enter the fingerprint cheaply."""
    values = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode("ascii") + b"\0")
    digest.update(values.data.cast("B") if values.size else b"")
    return digest.digest()


def fingerprint(parts: Iterable[tuple[str, bytes]]) -> str:
    """``"sha256:<hex>"`` over the named parts, in the order given."""
    digest = hashlib.sha256(FINGERPRINT_VERSION)
    for name, data in parts:
        label = name.encode("utf-8")
        digest.update(len(label).to_bytes(8, "little") + label)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return f"sha256:{digest.hexdigest()}"
