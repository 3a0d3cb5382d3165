"""The catalogs keep German and English in step, and every key raised below the web layer has words in
both: a visitor never sees an error, a rejected row or a page without its sentence in their language."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from web.catalog import ADMIN_TEXTS, CERTIFICATE_TEXTS, LANGUAGES, TEXTS
from web.messages import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = {
    "TEXTS": TEXTS,
    "ADMIN_TEXTS": ADMIN_TEXTS,
    "CERTIFICATE_TEXTS": CERTIFICATE_TEXTS,
    "MESSAGES": MESSAGES,
}

#: Where a key is given: ``key="..."`` (an error), a class's ``key = "..."``, a ``KEY_X``/``FINDING_X`` constant,
#: and the keys of rejected rows, records and findings (``"csv.x"``, ``"mqtt.x"``, ``"scoring.x"`` literals).
_KEY_PATTERNS = (
    re.compile(r'\bkey\s*=\s*"([a-z_]+\.[a-z0-9_.]+)"'),
    re.compile(r'^\s*key(?:\s*:\s*str)?\s*=\s*"([a-z_]+\.[a-z0-9_.]+)"', re.MULTILINE),
    re.compile(r'\b(?:KEY|FINDING)_[A-Z_]+\s*=\s*"([a-z_]+\.[a-z0-9_.]+)"'),
    re.compile(r'"((?:csv|mqtt|reading|upload|absence|auth|scoring)\.[a-z0-9_]+)"'),
)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def keys_raised(*packages: str) -> set[str]:
    keys: set[str] = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.name in ("catalog.py", "messages.py"):
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in _KEY_PATTERNS:
                keys.update(pattern.findall(text))
    return keys


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_german_and_english_have_the_same_keys_and_placeholders(name: str) -> None:
    catalog = CATALOGS[name]
    assert set(catalog) == set(LANGUAGES), name
    german, english = catalog["de"], catalog["en"]
    assert sorted(set(german) - set(english)) == [], f"{name}: only in German"
    assert sorted(set(english) - set(german)) == [], f"{name}: only in English"
    differing = {
        key: (_placeholders(german[key]), _placeholders(english[key]))
        for key in german
        if _placeholders(german[key]) != _placeholders(english[key])
    }
    assert differing == {}, f"{name}: the placeholders differ"
    assert [key for key in german if not german[key].strip() or not english[key].strip()] == []


def test_every_key_raised_in_contest_and_ingest_has_a_sentence_in_both_languages() -> None:
    raised = keys_raised("contest", "ingest", "web")
    assert {"auth.invalid_code", "absence.overlap", "csv.register_backwards", "contest.error"} <= raised
    assert {"upload.too_large", "absence.date"} <= raised  # the web layer's own refusals too
    for lang in LANGUAGES:
        missing = sorted(raised - set(MESSAGES[lang]))
        assert missing == [], f"no {lang} sentence for {missing}"


def test_every_finding_of_a_scoring_has_a_sentence_for_the_staff_in_both_languages() -> None:
    findings = keys_raised("scoring")
    assert {"scoring.insufficient_coverage", "scoring.register_reset"} <= findings
    for lang in LANGUAGES:
        assert sorted(findings - set(MESSAGES[lang])) == [], lang


def test_no_sentence_for_visitors_is_written_below_the_web_layer() -> None:
    """German words (umlauts) and "Deutsch / English" pairs in the strings of contest/ and ingest/ are
    sentences that belong in the web catalog (comments, docstrings and column vocabularies aside)."""
    bilingual = re.compile(r'"[^"\n]*[a-zäöü.] / [A-Za-z][^"\n]*"')
    german = re.compile(r'f?"[^"\n]*\b(?:ist|nicht|Sie|Ihre?|bitte|Bitte)\b[^"\n]*"')
    found = []
    for package in ("contest", "ingest"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if bilingual.search(code) or german.search(code):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
