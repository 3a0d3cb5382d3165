"""schemathesis against the app's own OpenAPI: no generated request makes the server fail (5xx),
for the public API and for the admin API with a valid staff token."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from contest.config import read_contest_config
from contest.contests import ContestService
from contest.db import Database
from contest.settings import WebSettings
from contest.staff import StaffService
from ingest.importer import CsvImporter
from tests.integration.contest_fixture import AS_OF, write_contest_files
from tests.servers import live_server
from web.app import create_app


def test_no_generated_request_causes_a_server_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}")
    files = write_contest_files(tmp_path / "files")
    with db.session() as session:
        ContestService(session).setup(read_contest_config(files["toml"]))
    for meter in "AB":
        CsvImporter(db).import_file(files[meter], meter)
    with db.session() as session:
        token = StaffService(session).create_token("fuzzer")
    web = WebSettings(secret_key="fuzz", upload_dir=str(tmp_path / "up"))
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    with live_server(create_app(db, web, clock=lambda: AS_OF, importer=CsvImporter(db))) as url:
        result = subprocess.run(
            [
                st,
                "run",
                f"{url}/schema/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "2026",
                "-H",
                f"Authorization: Bearer {token}",
                "--request-timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    db.dispose()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    import re

    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated and int(generated.group(1)) >= 200, result.stdout[-1500:]  # it really exercised the API
