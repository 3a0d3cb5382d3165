"""The household's signed session cookie (itsdangerous): holds only the household id, expires."""

from __future__ import annotations

import threading
import time
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from litestar import Request

from contest.errors import PermissionDenied

COOKIE = "portal_session"
MAX_AGE_S = 14 * 24 * 3600


class SessionSigner:
    def __init__(self, secret_key: str) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="household-portal")

    def dumps(self, household_id: int) -> str:
        return self._s.dumps({"hid": household_id})

    def household_id(self, request: Request[Any, Any, Any]) -> int:
        """The signed-in household, or :class:`PermissionDenied` (the portal then shows the login)."""
        token = request.cookies.get(COOKIE)
        if not token:
            raise PermissionDenied("Bitte anmelden / please sign in", key="auth.signed_out")
        try:
            data = self._s.loads(token, max_age=MAX_AGE_S)
        except SignatureExpired as exc:
            raise PermissionDenied("Sitzung abgelaufen / session expired", key="auth.signed_out") from exc
        except BadSignature as exc:
            raise PermissionDenied("Bitte anmelden / please sign in", key="auth.signed_out") from exc
        return int(data["hid"])


class LoginThrottle:
    """Wrong access codes are rate-limited per client address: after ``max_failures`` within
    ``window_s`` further attempts are refused until the window has passed (guessing a 79-bit code is
    hopeless anyway; this keeps scripted attempts from filling the logs and the database)."""

    def __init__(self, max_failures: int = 5, window_s: float = 600.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        self._failures[client] = times
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.max_failures

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
