"""How ``contest serve`` runs the web app: uvicorn with limits on slow and idle clients.

Uvicorn closes idle keep-alive connections but waits forever for a request that never finishes its
headers, and its fast HTTP parser (httptools) bounds no request head; a thousand such clients
(slowloris) would hold the server's connections. The protocol here is uvicorn's httptools protocol
(about 3x the requests per second of its h11 one, BENCHMARKS.md) with both bounds added: a connection
that has not sent a whole request head within ``header_timeout_s``, or whose head grows past
``max_header_bytes``, is closed.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from contest.settings import WebSettings


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a deadline [s] and a size limit [bytes] for each request head. The deadline runs
    from the head's first byte (or from the connection, for the first request); keep-alive idleness
    between requests is uvicorn's ``timeout_keep_alive``."""

    header_timeout_s: float = 10.0
    max_header_bytes: int = 16384
    _head_deadline: asyncio.TimerHandle | None = None
    #: waiting for (the rest of) a request head, and how many bytes of it came so far
    _in_head: bool = True
    _head_bytes: int = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head, self._head_bytes = True, 0
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            self._arm_head_deadline()
        super().data_received(data)
        # Still in the head after this data (its end would have cleared the flag): judge its size.
        if self._in_head and self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._disarm_head_deadline()
            self.send_400_response("Request head too large.")

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_bytes = True, 0  # the next head's clock starts with its first byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self._in_head and not self.transport.is_closing():
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
        "ContestHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_s": float(web.header_timeout_s), "max_header_bytes": int(web.max_header_bytes)},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=web.timeout_keep_alive_s,
        limit_concurrency=web.limit_concurrency,
        **extra,
    )


def run(app: Any, web: WebSettings, host: str, port: int) -> None:
    """Serve ``app`` until stopped (Ctrl-C, SIGTERM)."""
    # Room for every allowed connection plus the database's and the files' descriptors.
    raise_open_files_limit(web.limit_concurrency + 256)
    uvicorn.Server(uvicorn_config(app, web, host, port, log_level="info")).run()
