"""The Litestar app factory: wires services into handlers, templates, OpenAPI and error mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from contest.db import Database
from contest.ports import CsvImportPort
from contest.publishing import PublishingService
from contest.settings import WebSettings
from web.admin.contests import AdminContests
from web.admin.deps import AdminDeps
from web.admin.households import AdminHouseholds
from web.admin.meters import AdminMeters
from web.admin.page import AdminPage
from web.auth import SessionSigner
from web.controllers import LeaderboardApi, PublicPages, cacheable_response
from web.errors import EXCEPTION_HANDLERS
from web.i18n import remember_language
from web.pending import PendingUploads
from web.portal import Portal, PortalDeps
from web.security import refuse_nul_in_path, security_headers

HERE = Path(__file__).parent


def create_app(
    db: Database,
    web: WebSettings | None = None,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    importer: CsvImportPort | None = None,
    publishing: PublishingService | None = None,
) -> Litestar:
    """Build the web app around an open :class:`Database` (migrated by whoever opened it).

    clock: where "now" comes from for leaderboards (default: the system clock, UTC).
    importer: what turns uploaded CSV files into readings (``ingest.importer.CsvImporter``; the CLI
        wires it in, since web does not import ingest). Without it the portal refuses uploads.
    publishing: the snapshot publisher shared with the scheduler (a new one if not given).
    """
    web = web or WebSettings()
    boards = publishing or PublishingService(db, clock=clock)
    # Handlers run each use case in one transaction of ``db``: the services take that session.
    portal = PortalDeps(
        db=db,
        importer=importer,
        pending=PendingUploads(Path(web.upload_dir)),
        signer=SessionSigner(web.secret_key),
        max_upload_bytes=web.max_upload_bytes,
        publishing=boards,
    )
    admin = AdminDeps(db=db, publishing=boards)
    csrf = DefineMiddleware(CSRFMiddleware, config=CSRFConfig(secret=web.secret_key, cookie_httponly=True))
    return Litestar(
        route_handlers=[
            # Middleware only where it is needed: the JSON API (the hot path, bearer-token admin) runs
            # without the CSRF check and the language cookie (BENCHMARKS.md, leaderboard over HTTP).
            # NUL in a path (PostgreSQL refuses it in a query) is "not found" before any handler runs; the
            # public JSON API's handlers look slugs up through services that treat NUL so already.
            Router(
                "/",
                route_handlers=[PublicPages, AdminPage],
                middleware=[remember_language],
                before_request=refuse_nul_in_path,
            ),
            Router(
                "/",
                route_handlers=[Portal],
                middleware=[csrf, remember_language],
                before_request=refuse_nul_in_path,
            ),
            LeaderboardApi,
            Router(
                "/",
                route_handlers=[AdminContests, AdminHouseholds, AdminMeters],
                before_request=refuse_nul_in_path,
            ),
            create_static_files_router(
                path="/static", directories=[HERE / "static"], include_in_schema=False
            ),
        ],
        dependencies={
            "boards": Provide(lambda: boards, sync_to_thread=False),
            "portal": Provide(lambda: portal, sync_to_thread=False),
            "admin": Provide(lambda: admin, sync_to_thread=False),
        },
        # json_cache: encoded leaderboard pages by (slug, snapshot id, offset, limit), per app instance
        # season_cache: each contest's season state now, per app instance (controllers._season_now)
        state=State({"admin": admin, "publishing": boards, "json_cache": {}, "season_cache": {}}),
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="Energiesparwettbewerb API",
            version="0.1.0",
            description="Public leaderboards of energy-saving contests.",
            path="/schema",
            components=Components(
                security_schemes={
                    "StaffToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="Staff API token (`contest admin token create`)",
                    )
                }
            ),
        ),
        # Slightly above the upload limit so an oversized file gets our clear message, not a bare 413.
        request_max_body_size=web.max_upload_bytes + 1024 * 1024,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        # Pages are cached by snapshot and page (controllers.snapshot_cache_key); nothing else is stored.
        response_cache_config=ResponseCacheConfig(cache_response_filter=cacheable_response),
        before_send=[security_headers(web.widget_frame_ancestors)],
        debug=False,
    )
