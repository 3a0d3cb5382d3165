"""The household's signed session cookie (itsdangerous): holds only the household id, expires."""

from __future__ import annotations

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
