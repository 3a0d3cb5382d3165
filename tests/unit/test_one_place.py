"""Each rule in one place (issue 12): no module reaches into another's private names, and a contest,
household or meter is looked up by its key only in ``contest/lookup.py`` (which raises "not found")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "contest", "ingest", "scoring", "web")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_modules_private_names() -> None:
    found = []
    for path, tree in _modules():
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{path.relative_to(ROOT)}: imports {node.module}.{alias.name}")
                    imported.add(alias.asname or alias.name)
        for node in ast.walk(tree):  # e.g. ReadingService._frame of an imported class
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported
                and _private(node.attr)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []


#: How a row is found by its key; written once, in contest/lookup.py.
LOOKUPS = {
    "a contest by its slug": re.compile(r"select\(Contest\)\s*\.where\(\s*Contest\.slug\s*=="),
    "a meter by its id": re.compile(r"select\(Meter\)\s*\.where\(\s*Meter\.external_id\s*=="),
    "a household by its id": re.compile(r"session\.get\(Household,"),
}


def test_rows_are_looked_up_by_their_key_in_one_place() -> None:
    found = []
    for path, _ in _modules():
        if path == ROOT / "contest" / "lookup.py":
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in LOOKUPS.items():
            found += [f"{path.relative_to(ROOT)}: {what}" for _ in pattern.finditer(text)]
    assert found == []
    lookup = (ROOT / "contest" / "lookup.py").read_text(encoding="utf-8")
    assert all(pattern.search(lookup) for pattern in LOOKUPS.values())
