"""The Litestar app factory: wires services into handlers, templates, OpenAPI and error mapping."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from contest.db import Database
from contest.services import ContestService, LeaderboardService
from contest.settings import WebSettings
from web.controllers import LeaderboardApi, PublicPages
from web.errors import EXCEPTION_HANDLERS

HERE = Path(__file__).parent


def create_app(db: Database, web: WebSettings | None = None) -> Litestar:
    """Build the web app around an open :class:`Database` (migrated by whoever opened it)."""
    contests = ContestService(db)
    boards = LeaderboardService(db)
    return Litestar(
        route_handlers=[
            PublicPages,
            LeaderboardApi,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
        ],
        dependencies={
            "contests": Provide(lambda: contests, sync_to_thread=False),
            "boards": Provide(lambda: boards, sync_to_thread=False),
        },
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="Energiesparwettbewerb API",
            version="0.1.0",
            description="Public leaderboards of energy-saving contests.",
            path="/schema",
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        debug=False,
    )
