"""Benchmark: the public leaderboard JSON of a 10,000-household contest against a bare Litestar endpoint
returning the same bytes, under the same server (uvicorn with uvloop/httptools), measured with wrk at 64
connections in one run. Prints req/s and p99 latency of both; target: >= 80 % of the bare req/s and
p99 < 50 ms. Needs `wrk` (Debian package). Run: .venv/bin/python bench/leaderboard_http.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contest.config import parse_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.models import DailyConsumption, Meter
from contest.publishing import PublishingService
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def build_contest(db_url: str, households: int) -> None:
    today = dt.date(2026, 11, 25)
    comp_start = today - dt.timedelta(days=28)
    base_start = comp_start - dt.timedelta(days=60)
    lines = [
        "[contest]",
        'slug = "bench"',
        'name = "Benchmark"',
        f"baseline = {{ start = {base_start}, end = {comp_start - dt.timedelta(days=1)} }}",
        f"competition = {{ start = {comp_start}, end = {comp_start + dt.timedelta(days=180)} }}",
    ]
    for t in range(50):
        lines += ["[[teams]]", f'name = "Team {t + 1}"']
    for i in range(households):
        lines += [
            "[[households]]",
            f'pseudonym = "Haushalt {i + 1:05d}"',
            f'team = "Team {i % 50 + 1}"',
            f"persons = {i % 4 + 1}",
            f"public = {'true' if i % 3 else 'false'}",
            f'meters = [{{ id = "B{i:05d}" }}]',
        ]
    db = Database(db_url)
    with db.session() as session:
        ContestService(session).setup(parse_contest_config("\n".join(lines)))
    with db.session() as session:
        meters = (
            session.execute(
                Meter.__table__.select().with_only_columns(Meter.id).order_by(Meter.id)  # type: ignore[attr-defined]
            )
            .scalars()
            .all()
        )
        days = [base_start + dt.timedelta(days=d) for d in range((today - base_start).days)]
        rows = [
            {
                "meter_id": m,
                "day": day,
                "energy_kwh": 8.0 + (m % 7) - (0.5 if day >= comp_start and m % 2 else 0.0),
                "coverage_fraction": 1.0,
            }
            for m in meters
            for day in days
        ]
        session.execute(DailyConsumption.__table__.insert(), rows)  # type: ignore[attr-defined]
    PublishingService(db, clock=lambda: dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)).publish("bench")
    db.dispose()


#: Servers run on the first core, wrk on the second, so the load generator does not steal the server's CPU.
SERVER_CPU, WRK_CPU = "0", "1"


def serve(script: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*_pin(SERVER_CPU), sys.executable, "-c", script, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


APP = textwrap.dedent("""
    import sys, datetime as dt, uvicorn
    from litestar import get
    from contest.db import Database
    from web.app import create_app
    app = create_app(Database(sys.argv[2] if len(sys.argv) > 2 else "{url}"),
                     clock=lambda: dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC))
    @get("/health", sync_to_thread=False)
    def health() -> str:
        return "ok"
    app.register(health)
    if "{server}" == "shipped":  # what `contest serve` runs: its protocol, timeouts and limits
        from contest.settings import WebSettings
        from cli.webserver import uvicorn_config
        web = WebSettings(secret_key="bench-" + "x" * 40)
        config = uvicorn_config(app, web, "127.0.0.1", int(sys.argv[1]), log_level="error", access_log=False)
        uvicorn.Server(config).run()
    else:
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
""")

BARE = textwrap.dedent("""
    import sys, uvicorn
    from litestar import Litestar, Response, get
    body = open("{body}", "rb").read()
    @get("/api/contests/bench/leaderboard", sync_to_thread=False)
    def leaderboard() -> Response[bytes]:
        return Response(body, media_type="application/json")
    @get("/health", sync_to_thread=False)
    def health() -> str:
        return "ok"
    uvicorn.run(Litestar([leaderboard, health]), host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
                access_log=False)
""")


def _pin(cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def wrk(url: str, seconds: int) -> tuple[float, float]:
    out = subprocess.run(
        [*_pin(WRK_CPU), "wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99, out
    value = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--server",
        choices=("plain", "shipped"),
        default="plain",
        help="the project's side under plain uvicorn (as the bare side) or as `contest serve` runs it",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'http.sqlite3'}"
        t0 = time.perf_counter()
        build_contest(url, args.households)
        print(
            f"{dt.datetime.now():%Y-%m-%d %H:%M}  contest of {args.households:,} households built and "
            f"published in {time.perf_counter() - t0:.1f} s"
        )
        ours_port, bare_port = free_port(), free_port()
        app = serve(APP.replace("{url}", url).replace("{server}", args.server), ours_port)
        endpoint = f"http://127.0.0.1:{ours_port}/api/contests/bench/leaderboard"
        body = urllib.request.urlopen(endpoint).read()
        (Path(tmp) / "body.json").write_bytes(body)
        bare_proc = serve(BARE.replace("{body}", str(Path(tmp) / "body.json")), bare_port)
        bare_url = f"http://127.0.0.1:{bare_port}/api/contests/bench/leaderboard"
        assert urllib.request.urlopen(bare_url).read() == body
        try:
            wrk(endpoint, 2)  # warm up both
            wrk(bare_url, 2)
            rounds: list[tuple[tuple[float, float], tuple[float, float]]] = []
            for r in range(args.rounds):  # interleaved, so drifts of the machine hit both alike
                bare = wrk(bare_url, args.seconds)
                ours = wrk(endpoint, args.seconds)
                rounds.append((bare, ours))
                print(
                    f"  round {r + 1}: bare {bare[0]:,.0f} req/s p99 {bare[1]:.1f} ms | "
                    f"project {ours[0]:,.0f} req/s p99 {ours[1]:.1f} ms | ratio {ours[0] / bare[0]:.2f}"
                )
        finally:
            for proc in (app, bare_proc):
                proc.terminate()
                proc.wait()
    bare_rps = statistics.median(b[0] for b, _ in rounds)
    ours_rps = statistics.median(o[0] for _, o in rounds)
    print(
        f"response {len(body) / 1e6:.2f} MB | median of {args.rounds} rounds: bare {bare_rps:,.0f} req/s "
        f"p99 {statistics.median(b[1] for b, _ in rounds):.1f} ms | project {ours_rps:,.0f} req/s p99 "
        f"{statistics.median(o[1] for _, o in rounds):.1f} ms (worst {max(o[1] for _, o in rounds):.1f}) | "
        f"ratio {statistics.median(o[0] / b[0] for b, o in rounds):.2f} (target >= 0.80, p99 < 50 ms) | "
        f"project server: {args.server}"
    )


if __name__ == "__main__":
    main()
