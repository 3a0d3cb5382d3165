"""A real Mosquitto for tests, configured from deploy/mosquitto (password file, ACL, persistence)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
INGEST_USER = "contest-ingest"
INGEST_PASSWORD = "ingest-secret"
#: the leaderboard publisher's user (the broker makes usernames client ids: one user per connection)
LEADERBOARD_USER = "contest-leaderboard"
LEADERBOARD_PASSWORD = "leaderboard-secret"


@dataclass
class Broker:
    host: str
    port: int
    directory: Path
    users: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        log = open(self.directory / "mosquitto.log", "ab")  # noqa: SIM115 - lives as long as the broker
        self.process = subprocess.Popen(
            [binary, "-c", str(self.directory / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited: {(self.directory / 'mosquitto.log').read_text()[-2000:]}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self, *, hard: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)  # SIGTERM saves persistence
            self.process.wait(timeout=15)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def add_user(self, username: str, password: str) -> None:
        subprocess.run(
            ["mosquitto_passwd", "-b", str(self.directory / "passwords"), username, password],
            check=True,
            capture_output=True,
        )
        self.users[username] = password
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)  # reload the password file
            time.sleep(0.3)


@contextmanager
def mosquitto(
    devices: dict[str, str] | None = None,
    workers: tuple[str, ...] = (),
    write_patterns: tuple[str, ...] | None = None,
) -> Iterator[Broker]:
    """Start Mosquitto on 127.0.0.1 and a random free port with the project's configuration.

    workers: usernames of further ingest workers (password INGEST_PASSWORD), each with the ingest
    user's read access, as the README tells operators to add them for a shared subscription.
    write_patterns: the devices' ``pattern write`` lines instead of the shipped ones (an installation
    with other topic prefixes: its format table's ``write_patterns``)."""
    directory = Path(tempfile.mkdtemp(prefix="contest-mqtt-"))
    (directory / "data").mkdir()
    port = free_port()
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    conf = conf.replace(
        "password_file /mosquitto/config/passwords", f"password_file {directory / 'passwords'}"
    )
    conf = conf.replace("acl_file /mosquitto/config/acl", f"acl_file {directory / 'acl'}")
    conf = conf.replace(
        "persistence_location /mosquitto/data/", f"persistence_location {directory / 'data'}/"
    )
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    if os.geteuid() == 0:
        conf += "\n# tests run as root: keep root instead of switching to the mosquitto user\nuser root\n"
    (directory / "mosquitto.conf").write_text(conf)
    acl = (ROOT / "deploy" / "mosquitto" / "acl").read_text()
    if write_patterns is not None:
        kept = [line for line in acl.splitlines() if not line.startswith("pattern write ")]
        acl = "\n".join([*kept, *(f"pattern write {p}" for p in write_patterns)]) + "\n"
    acl += "".join(f"\nuser {worker}\ntopic read #\n" for worker in workers)
    (directory / "acl").write_text(acl)
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(directory / "passwords"), INGEST_USER, INGEST_PASSWORD],
        check=True,
        capture_output=True,
    )
    broker = Broker("127.0.0.1", port, directory, {INGEST_USER: INGEST_PASSWORD})
    broker.add_user(LEADERBOARD_USER, LEADERBOARD_PASSWORD)
    for worker in workers:
        broker.add_user(worker, INGEST_PASSWORD)
    for user, password in (devices or {}).items():
        broker.add_user(user, password)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop(hard=True)
        shutil.rmtree(directory, ignore_errors=True)
