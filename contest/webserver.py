"""How ``contest serve`` runs the web app: uvicorn with limits on slow and idle clients.

Uvicorn closes idle keep-alive connections but waits forever for a request that never finishes its
headers; a thousand such clients (slowloris) would hold the server's connections. The HTTP protocol
here (h11, whose header size limit uvicorn passes on) closes a connection that has not sent a whole
request head within ``header_timeout_s``.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from contest.settings import WebSettings


class HeaderTimeoutH11Protocol(H11Protocol):
    """h11 with a deadline for each request head [s], counted from its first byte (or from the
    connection, for the first request); keep-alive idleness is uvicorn's ``timeout_keep_alive``."""

    header_timeout_s: float = 10.0
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_head_deadline()  # part of a request head: the clock runs (once per head)
        else:
            self._disarm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        # Between requests the keep-alive timeout applies; the next head's clock starts with its data.
        self._disarm_head_deadline()
        super().on_response_complete()

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request head took over %ss", self.header_timeout_s)
            self.transport.close()


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit of open files towards ``wanted`` (not above the hard limit),
    so the connection limit, not the file limit, is what refuses clients; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def uvicorn_config(app: Any, web: WebSettings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """The server configuration of ``contest serve``: timeouts and limits from ``web``."""
    protocol = type(
        "ContestH11Protocol", (HeaderTimeoutH11Protocol,), {"header_timeout_s": float(web.header_timeout_s)}
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=web.timeout_keep_alive_s,
        limit_concurrency=web.limit_concurrency,
        h11_max_incomplete_event_size=web.max_header_bytes,
        **extra,
    )


def run(app: Any, web: WebSettings, host: str, port: int) -> None:
    """Serve ``app`` until stopped (Ctrl-C, SIGTERM)."""
    # Room for every allowed connection plus the database's and the files' descriptors.
    raise_open_files_limit(web.limit_concurrency + 256)
    uvicorn.Server(uvicorn_config(app, web, host, port, log_level="info")).run()
