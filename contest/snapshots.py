"""A leaderboard snapshot as JSON: the one codec of the body stored with each snapshot, of the retained
MQTT message for city displays (the same body) and of the content hash that tells revisions apart.
Reading a stored body back converts it into the domain values by their own field declarations
(msgspec): a body written by a newer version (more fields) still loads after a rollback, and fields an
older body lacks take their defaults. The JSON API shows the same view in its own shape (web.schemas).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from typing import Any

import msgspec

from contest.domain import HouseholdStanding, LeaderboardView
from contest.rules import ContestRules, rules_from_data, rules_from_storage
from contest.season import FROZEN, PROVISIONAL


def jsonable(value: Any) -> Any:
    """Plain JSON values: dataclasses, dates, tuples and numpy scalars converted; NaN and infinities
    (which JSON columns refuse) become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, msgspec.Struct):  # the contest's rules
        return jsonable(msgspec.to_builtins(value))
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return jsonable(value.item())
    return value


def finding_to_json(finding: Any) -> dict[str, Any]:
    """A scoring finding as stored with a snapshot for the staff (key, detail, subject, evidence)."""
    return {
        "key": str(finding.key),
        "detail": str(finding.detail),
        "subject": str(getattr(finding, "subject", "") or ""),
        "data": jsonable(dict(getattr(finding, "data", {}) or {})),
    }


def view_to_json(view: LeaderboardView) -> dict[str, Any]:
    """The public leaderboard as JSON (findings stay with the staff: only their count is public)."""
    body = jsonable(dataclasses.replace(view, findings=()))
    body["findings_count"] = len(view.findings)
    # The season's state when published, at the top for city displays reading the retained message.
    state = view.contest.state
    body["state"] = state
    body["provisional"] = state in PROVISIONAL
    body["final"] = state in FROZEN
    return body  # type: ignore[no-any-return]


def view_message(view: LeaderboardView) -> bytes:
    """The public leaderboard as the retained MQTT message for city displays: its body, compact UTF-8."""
    return json.dumps(view_to_json(view), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def content_hash(body: dict[str, Any]) -> str:
    """sha256 of a snapshot body without its as-of time: the same standings give the same hash."""
    timeless = {k: v for k, v in body.items() if k != "as_of"}
    provenance = timeless.get("provenance")
    if isinstance(provenance, dict):
        timeless["provenance"] = {k: v for k, v in provenance.items() if k != "as_of"}
    text = json.dumps(timeless, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Fields of a household's line that snapshots stored before they existed lack, as such a snapshot
#: means them: no CO2 figure, no tie, no category, no living area.
_STANDING_ADDED_LATER: dict[str, Any] = {
    "co2_saved_kg": None,
    "statistically_tied": False,
    "category": None,
    "category_rank": None,
    "savings_kwh_per_m2": None,
}


def standing_from_json(fields: dict[str, Any]) -> HouseholdStanding:
    return msgspec.convert({**_STANDING_ADDED_LATER, **fields}, HouseholdStanding)


def _rules_before_0012(contest: dict[str, Any]) -> ContestRules:
    """The rules of a snapshot published before they were one value: flat fields of its contest."""
    scoring = {k: contest[k] for k in _FLAT_SCORING_FIELDS if k in contest}
    if "baseline_method" in contest:
        scoring["method"] = contest["baseline_method"]
    privacy = {k: contest[k] for k in ("min_team_size_public",) if k in contest}
    return rules_from_data({"scoring": scoring, "privacy": privacy})


_FLAT_SCORING_FIELDS = ("min_coverage_fraction", "min_team_members", "min_day_coverage_fraction")


def view_from_json(body: dict[str, Any]) -> LeaderboardView:
    raw = body["contest"]
    rules = rules_from_storage(raw["rules"]) if "rules" in raw else _rules_before_0012(raw)
    households = [{**_STANDING_ADDED_LATER, **h} for h in body["households"]]
    return msgspec.convert(
        {**body, "contest": {**raw, "rules": rules}, "households": households}, LeaderboardView
    )
