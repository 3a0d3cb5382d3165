"""The staff's admin API (JSON, in the OpenAPI schema), protected by hashed staff API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath

from contest.admin import StaffService
from contest.config import contest_config_from_dict
from contest.domain import MeterInfo
from contest.publishing import PublishingService
from contest.services import ContestService, HouseholdService
from contest.streams import StreamService
from web.schemas import ContestOut


@dataclass(frozen=True)
class AdminDeps:
    staff: StaffService
    contests: ContestService
    households: HouseholdService
    streams: StreamService
    publishing: PublishingService


def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Every admin request needs ``Authorization: Bearer <staff token>``."""
    header = connection.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    connection.app.state.admin.staff.authenticate(token)


@dataclass
class MeterIn:
    id: str
    carrier: str = "electricity"
    kind: str = "register"


@dataclass
class HouseholdIn:
    pseudonym: str
    persons: int = 1
    team: str | None = None
    public: bool = False
    living_area_m2: float | None = None
    meters: list[MeterIn] = field(default_factory=list)


@dataclass(frozen=True)
class HouseholdCreated:
    pseudonym: str
    access_code: str
    meters: list[str]


@dataclass
class BindingIn:
    device: str
    channel: str = "*"


@dataclass(frozen=True)
class BindingOut:
    meter: str
    device: str
    channel: str


@dataclass(frozen=True)
class SnapshotOut:
    id: int
    slug: str
    as_of: str
    reason: str
    final: bool


class AdminApi(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [staff_guard]
    security = [{"StaffToken": []}]

    @get("/contests", sync_to_thread=True, summary="All contests")
    def contests(self, admin: NamedDependency[AdminDeps]) -> list[ContestOut]:
        return [ContestOut.from_info(c) for c in admin.contests.list_contests()]

    @post(
        "/contests",
        sync_to_thread=True,
        summary="Create or update a contest (same structure as the TOML file)",
    )
    def setup_contest(self, admin: NamedDependency[AdminDeps], data: dict[str, Any]) -> ContestOut:
        return ContestOut.from_info(admin.contests.setup(contest_config_from_dict(data)))

    @post(
        "/contests/{slug:str}/households",
        sync_to_thread=True,
        summary="Add a household (or give it a new code); the access code is returned once",
    )
    def add_household(
        self, admin: NamedDependency[AdminDeps], slug: FromPath[str], data: HouseholdIn
    ) -> HouseholdCreated:
        info, code = admin.households.add(
            slug,
            data.pseudonym,
            persons=data.persons,
            team=data.team,
            public_listing=data.public,
            living_area_m2=data.living_area_m2,
            meters=[MeterInfo(m.id, m.carrier, m.kind) for m in data.meters],
        )
        return HouseholdCreated(info.pseudonym, code, [m.external_id for m in info.meters])

    @post("/meters/{meter:str}/bindings", sync_to_thread=True, summary="Bind a smart-meter device (MQTT)")
    def bind(self, admin: NamedDependency[AdminDeps], meter: FromPath[str], data: BindingIn) -> BindingOut:
        bound = admin.streams.bind(meter, data.device, data.channel)
        return BindingOut(bound.external_id, data.device, data.channel)

    @get("/rejected", sync_to_thread=True, summary="The rejected-records store (CSV rows and MQTT messages)")
    def rejected(
        self, admin: NamedDependency[AdminDeps], source: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        return admin.staff.rejected_records(source, min(max(limit, 1), 1000))

    @post("/contests/{slug:str}/publish", sync_to_thread=True, summary="Rescore and publish now")
    def publish(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> SnapshotOut:
        info = admin.publishing.publish(slug, reason="manual")
        return SnapshotOut(info.id, slug, info.as_of.isoformat(), info.reason, info.final)

    @get("/contests/{slug:str}/results.csv", sync_to_thread=True, summary="All results as CSV (staff view)")
    def results_csv(self, admin: NamedDependency[AdminDeps], slug: FromPath[str]) -> Response[bytes]:
        body = admin.staff.results_csv(slug)
        return Response(
            ("\ufeff" + body).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ergebnisse-{slug}.csv"'},
        )
