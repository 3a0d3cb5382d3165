"""What every admin endpoint shares: its dependencies, the staff-token guard, the acting staff member,
and the error responses the OpenAPI schema names."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from contest.db import Database
from contest.lookup import MAX_ROW_ID
from contest.publishing import PublishingService
from contest.staff import FindingsReview, StaffService
from web.schemas import ErrorOut


@dataclasses.dataclass(frozen=True)
class AdminDeps:
    """What the admin API needs, handed in by the app factory. Each request's use case runs in one
    transaction of ``db`` (``with admin.db.session() as s``); scoring and snapshots go through
    ``publishing`` (the publisher the scheduler and the pages use: its clock, cache and row lock)."""

    db: Database
    publishing: PublishingService
    #: the findings of each contest's newest snapshot, kept per snapshot (one per app)
    findings: FindingsReview = dataclasses.field(default_factory=FindingsReview)


def _bearer(headers: Mapping[str, str]) -> str | None:
    header = headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Every admin request needs ``Authorization: Bearer <staff token>``."""
    admin: AdminDeps = connection.app.state.admin
    with admin.db.session() as s:
        StaffService(s).authenticate(_bearer(connection.headers))


def actor(request: Request[Any, Any, Any], admin: AdminDeps) -> str:
    """Who acts: the name of the staff token the request came with (the guard has checked it)."""
    with admin.db.session() as s:
        return "staff:" + StaffService(s).authenticate(_bearer(request.headers))


#: Error responses every admin endpoint may give (the body of each is ErrorOut).
ERRORS = {
    400: ResponseSpec(ErrorOut, description="Bad input: the detail names the field and the rule"),
    401: ResponseSpec(ErrorOut, description="No valid staff token (Authorization: Bearer <token>)"),
}
NOT_FOUND = {404: ResponseSpec(ErrorOut, description="Unknown contest, team, household, meter or binding")}
CONFLICT = {409: ResponseSpec(ErrorOut, description="The name or id is taken")}

RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, description="Id of the row")]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="At most this many entries")]
