"""`contest ingest` as a process of its own (so that kill -9 reaches it), for the tests and the fault
benchmark; and the bounded wait both use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.mqtt_broker import INGEST_PASSWORD, INGEST_USER, Broker

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, every: float = 0.1) -> bool:
    """Whether ``predicate`` became true within ``timeout`` [s] (checked every ``every`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


class WorkerProcess:
    """`contest ingest` in its own process group, its output collected; nothing outlives the caller.

    extra_env: more CONTEST_* settings (batch wait, topics, share group)
    """

    def __init__(
        self,
        db_url: str,
        broker: Broker,
        client_id: str,
        *,
        username: str = INGEST_USER,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            "CONTEST_DB_URL": db_url,
            "CONTEST_MQTT_HOST": broker.host,
            "CONTEST_MQTT_PORT": str(broker.port),
            "CONTEST_MQTT_USERNAME": username,
            "CONTEST_MQTT_PASSWORD": INGEST_PASSWORD,
            "CONTEST_MQTT_CLIENT_ID": client_id,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "ingest"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_connected(self, timeout: float = 30) -> None:
        if not wait_for(lambda: any("connected to" in line for line in self.lines), timeout):
            self.kill()
            raise RuntimeError("worker did not connect:\n" + "\n".join(self.lines[-30:]))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> list[str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(10)
        return self.lines
