"""The household's signed session cookie (itsdangerous): the household id and its session key,
checked against the database on every request, so a session ends on sign-out, a new access code and
deletion, and never opens another household (ids are reused on SQLite; keys are random)."""

from __future__ import annotations

import threading
import time
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from litestar import Request
from sqlalchemy.orm import Session

from contest.errors import PermissionDenied
from contest.households import HouseholdService

COOKIE = "portal_session"
MAX_AGE_S = 14 * 24 * 3600


class SessionSigner:
    def __init__(self, secret_key: str) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="household-portal")

    def dumps(self, household_id: int, session_key: str) -> str:
        return self._s.dumps({"hid": household_id, "sk": session_key})

    def household_id(self, request: Request[Any, Any, Any], session: Session) -> int:
        """The signed-in household, or :class:`PermissionDenied` (the portal then shows the login).
        Asks the database in the request's ``session``: call it off the event loop."""
        token = request.cookies.get(COOKIE)
        if not token:
            raise PermissionDenied("please sign in", key="auth.signed_out")
        try:
            data = self._s.loads(token, max_age=MAX_AGE_S)
        except SignatureExpired as exc:
            raise PermissionDenied("the session expired", key="auth.signed_out") from exc
        except BadSignature as exc:
            raise PermissionDenied("please sign in", key="auth.signed_out") from exc
        hid = data.get("hid") if isinstance(data, dict) else None
        key = data.get("sk") if isinstance(data, dict) else None
        if not isinstance(hid, int) or not isinstance(key, str):  # e.g. a cookie from before session keys
            raise PermissionDenied("please sign in", key="auth.signed_out")
        HouseholdService(session).check_session(hid, key)
        return hid


class LoginThrottle:
    """Wrong access codes are counted per client address: after ``max_failures`` within ``window_s``
    that address is answered 429 ("wait a moment") for wrong codes until the window has passed.

    A correct code is always let through: many households share one address (a town-hall event on
    one Wi-Fi, a carrier's NAT), and one person's typos must not lock the others out. That leaves
    guessing as hard as before: a code is 16 characters from a 31-letter alphabet (~79 bits), so
    even a million guesses a second against 10,000 valid codes take ~2 billion years on average. A
    success does not clear the address's count, so a household's own code cannot be used to reset
    it between guesses. The table is bounded (``max_clients``), so many addresses cannot grow it.
    """

    def __init__(self, max_failures: int = 5, window_s: float = 600.0, max_clients: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        if times:
            self._failures[client] = times
        else:
            self._failures.pop(client, None)
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.max_failures

    def retry_after_s(self, client: str) -> int:
        """Seconds until the address's oldest counted failure leaves the window."""
        with self._lock:
            now = time.monotonic()
            times = self._recent(client, now)
            return max(1, int(self.window_s - (now - times[0])) + 1) if times else 0

    def failed(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            times = self._recent(client, now)
            # Only the newest max_failures matter: a blocked script cannot grow its list.
            self._failures[client] = [*times, now][-self.max_failures :]
            if len(self._failures) > self.max_clients:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for client in list(self._failures):
            self._recent(client, now)
        if len(self._failures) > self.max_clients:  # still full: forget the longest-quiet addresses
            by_last = sorted(self._failures, key=lambda c: self._failures[c][-1])
            for client in by_last[: len(by_last) - self.max_clients // 2]:
                del self._failures[client]
