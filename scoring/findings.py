"""Data-quality findings travel with results as data, not as exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    """One data-quality observation.

    key: stable machine-readable key, e.g. ``"scoring.insufficient_coverage"``
    detail: human-readable English sentence
    subject: what it is about, e.g. ``"household:17"`` (empty for the whole contest)
    data: small JSON-able details, e.g. ``{"coverage": 0.62}``
    """

    key: str
    detail: str
    subject: str = ""
    data: dict[str, Any] = field(default_factory=dict)
