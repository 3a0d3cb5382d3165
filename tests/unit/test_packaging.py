"""What a new user and an operator rely on: the README's commands, docker-compose matching the tests,
and the import rules of the house style."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_readme_opens_with_the_two_commands_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```(?:sh|bash)\n(.+?)\n```", readme, flags=re.M | re.S)[:2]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    for cmd in commands:
        assert (ROOT / cmd.split()[1]).exists()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


def test_docker_compose_runs_the_app_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:15")  # the major version the tests run
    app = services["app"]
    assert app["environment"]["CONTEST_DB_URL"].startswith("postgresql+psycopg://")
    assert app["command"][0] == "contest"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "contest" in scripts


def test_docker_compose_runs_mosquitto_with_the_shipped_configuration() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    broker = services["mosquitto"]
    assert broker["image"].startswith(
        "eclipse-mosquitto:2"
    )  # Debian 12's mosquitto, which the tests run, is 2.0
    mounted = {v.split(":")[0] for v in broker["volumes"]}
    assert {"./deploy/mosquitto/mosquitto.conf", "./deploy/mosquitto/acl"} <= mounted
    for path in ("mosquitto.conf", "acl"):
        assert (ROOT / "deploy" / "mosquitto" / path).exists()
    ingest = services["ingest"]
    assert ingest["command"] == ["contest", "ingest"]
    assert ingest["environment"]["CONTEST_MQTT_HOST"] == "mosquitto"
    assert ingest["environment"]["CONTEST_MQTT_SHARE_GROUP"]  # more ingest replicas split the load


def _imports(package: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / package).rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update((module, a.name.split(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((module, node.module.split(".")[0]))
    return found


def test_layers_import_only_downwards() -> None:
    """scoring imports nothing of the project; web and ingest never import each other; only web
    imports litestar, only ingest imports paho; contest never imports web or ingest; nothing imports cli,
    the composition root that wires them."""
    bad = []
    for module, target in _imports("scoring"):
        if target in {"cli", "contest", "ingest", "web", "sqlalchemy", "litestar", "paho", "apscheduler"}:
            bad.append((module, target))
    for module, target in _imports("web"):
        if target in {"cli", "ingest", "paho"}:
            bad.append((module, target))
    for module, target in _imports("ingest"):
        if target in {"cli", "web", "litestar"}:
            bad.append((module, target))
    for module, target in _imports("contest"):
        if target in {"cli", "web", "ingest", "litestar", "paho"}:
            bad.append((module, target))
    assert bad == []
