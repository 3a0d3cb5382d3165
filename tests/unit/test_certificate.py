"""A household's certificate states its result truthfully, in its language, and can be checked online."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools

import pytest
import segno
from pypdf import PdfReader
from pypdf.generic import ContentStream

from web.certificate import CertificateData, printable, render_certificate

URL = "https://wettbewerb.soest.de/contests/7/final"

SAMPLE = CertificateData(
    contest_name="Soester Energiesparwinter 2027",
    competition_start=dt.date(2027, 1, 1),
    competition_end=dt.date(2027, 3, 31),
    pseudonym="Familie Müller",
    rank=3,
    ranked_count=131,
    savings_fraction=0.1234,
    savings_kwh=1234.4,
    co2_saved_kg=567.3,
    team="Sonnenweg",
    team_rank=2,
    # 22:30 UTC on 1 April is already 2 April in Soest (CEST): the date is shown in the contest's zone.
    final_at=dt.datetime(2027, 4, 1, 22, 30, tzinfo=dt.UTC),
    timezone="Europe/Berlin",
    revision=4711,
    verify_url=URL,
)


def _reader(data: CertificateData, lang: str) -> PdfReader:
    return PdfReader(io.BytesIO(render_certificate(data, lang)))


def _text(data: CertificateData, lang: str) -> str:
    reader = _reader(data, lang)
    assert len(reader.pages) == 1
    # No-break spaces keep "12,3 %" together on the page; compare with ordinary spaces.
    return reader.pages[0].extract_text().replace("\xa0", " ")


def test_german_certificate_states_what_the_household_achieved() -> None:
    text = _text(SAMPLE, "de")
    assert "Urkunde" in text
    assert "Soester Energiesparwinter 2027" in text
    assert "Familie Müller" in text
    assert "Platz 3 von 131" in text
    assert "12,3 %" in text  # one decimal, decimal comma
    assert "1.234 kWh" in text  # whole kWh above 100, thousands point
    assert "567 kg" in text and "CO2" in text  # whole kg
    assert "Sonnenweg" in text and "Platz 2" in text
    assert "1. Januar 2027" in text and "31. März 2027" in text
    assert "2. April 2027" in text  # final date in the contest's zone, not UTC's 1 April
    assert "4711" in text
    assert "Certificate" not in text and "Rank" not in text  # one language per page


def test_english_certificate_uses_english_words_numbers_and_dates() -> None:
    text = _text(SAMPLE, "en")
    assert "Certificate" in text
    assert "Familie Müller" in text
    assert "Rank 3 of 131" in text
    assert "12.3%" in text
    assert "1,234 kWh" in text
    assert "567 kg" in text
    assert "March 31, 2027" in text and "April 2, 2027" in text
    assert "Urkunde" not in text and "Platz" not in text


def test_small_energy_keeps_one_decimal_and_no_false_precision() -> None:
    text = _text(dataclasses.replace(SAMPLE, savings_kwh=45.678, co2_saved_kg=20.6), "de")
    assert "45,7 kWh" in text
    assert "21 kg" in text and "20,6" not in text


def test_unranked_household_gets_participation_text_and_no_rank() -> None:
    unranked = dataclasses.replace(SAMPLE, rank=None)
    german = _text(unranked, "de")
    assert "für die Teilnahme" in german
    assert "Platz 3" not in german and "von 131" not in german
    english = _text(unranked, "en")
    assert "for taking part" in english
    assert "Rank" not in english and "of 131" not in english


def test_using_more_energy_is_never_called_a_saving() -> None:
    more = dataclasses.replace(
        SAMPLE, rank=120, savings_fraction=-0.042, savings_kwh=-345.2, co2_saved_kg=-120.4
    )
    german = _text(more, "de")
    assert "Mehrverbrauch" in german and "4,2 %" in german and "345 kWh" in german and "120 kg" in german
    for word in ("eingespart", "weniger Energie", "vermieden", "Einsparung"):
        assert word not in german
    assert "-4,2" not in german  # the word says the direction, not a minus sign
    english = _text(more, "en")
    assert "used more" in english and "4.2%" in english
    for word in ("saved", "less energy", "avoided"):
        assert word not in english


def test_verification_link_is_printed_and_embedded_as_a_qr_code_of_that_url() -> None:
    page = _reader(SAMPLE, "de").pages[0]
    assert URL in page.extract_text()
    images = list(page.images)
    assert len(images) == 1
    picture = images[0].image
    assert picture is not None
    pixels = picture.convert("L")
    # segno cannot decode, so compare the embedded modules with the code segno makes for the URL.
    expected = [list(row) for row in segno.make(URL, error="m", micro=False).matrix_iter(border=4)]
    scale = pixels.width // len(expected)

    def dark(x: int, y: int) -> bool:
        value = pixels.getpixel((x * scale + scale // 2, y * scale + scale // 2))
        assert isinstance(value, int)
        return value < 128

    seen = [[dark(x, y) for x in range(len(expected))] for y in range(len(expected))]
    assert seen == [[bool(module) for module in row] for row in expected]


def test_without_a_link_there_is_no_qr_code() -> None:
    page = _reader(dataclasses.replace(SAMPLE, verify_url=None), "de").pages[0]
    assert list(page.images) == []
    assert "http" not in page.extract_text()


def _qr_top_and_baselines(reader: PdfReader, *line_starts: str) -> tuple[float, list[float]]:
    """Top edge of the QR image and the baselines of the text lines starting with ``line_starts``
    [pt from the page's bottom]."""
    page = reader.pages[0]
    operations = ContentStream(page.get_contents(), reader).operations
    tops = [
        float(ops[5]) + float(ops[3])  # cm's f (bottom edge) + d (height)
        for (ops, op), (_, following) in itertools.pairwise(operations)
        if op == b"cm" and following == b"Do"
    ]
    baselines: dict[str, float] = {}

    def visit(text: str, _cm: object, tm: list[float], _font: object, _size: object) -> None:
        for start in line_starts:
            if text.startswith(start):
                baselines[start] = float(tm[5])

    page.extract_text(visitor_text=visit)
    assert len(tops) == 1
    return tops[0], [baselines[start] for start in line_starts]


def test_long_names_wrap_without_crowding_the_qr_code() -> None:
    long = dataclasses.replace(
        SAMPLE,
        contest_name=(
            "Großer Soester Energiesparwettbewerb der Stadtwerke, der Schulen und der Nachbarschaften "
            "im Winterhalbjahr 2027/2028 für Haushalte, Wohngemeinschaften und Teams aus allen Ortsteilen"
        ),
        pseudonym="Wohngemeinschaft Schmidt-Müller-Lüdenscheid, Ostönnen am Hellweg, Haus 12 WWW",  # 77
        team="Nachbarschaftsinitiative Sonnenweg, Kirchstraße und Umgebung e. V.",
        verify_url=URL + "?revision=4711&lang=de&source=urkunde-fuer-haushalte-und-teams-der-stadt",
    )
    reader = _reader(long, "de")
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Platz 3 von 131" in text and "Ostönnen" in text and "2. April 2027" in text
    qr_top, (last_line, caption) = _qr_top_and_baselines(reader, "Ergebnis endgültig", "Das Ergebnis ist")
    assert caption > qr_top  # the caption sits above the code
    assert last_line - caption >= 20  # and a blank line apart from the text above it


def test_names_outside_the_font_render_without_crashing() -> None:
    text = _text(dataclasses.replace(SAMPLE, pseudonym="Zoë 🌻", team="Łódź – Straße"), "de")
    assert "Zoë" in text and "🌻" not in text
    assert "Lódz – Straße" in text  # ó is in the font; Ł and ź lose only their marks


def test_printable_keeps_german_and_replaces_the_rest() -> None:
    assert printable("Jörg Weiß „Ökohaus“") == "Jörg Weiß „Ökohaus“"
    assert printable("Zoë 🌻") == "Zoë"
    assert printable("Ő Ł") == "O L"
    assert printable("Саша") == "????"
    assert printable("🌻") == "?"


def test_same_result_gives_the_same_file() -> None:
    # The file is dated by the final result, not by the moment of download, so it never changes.
    metadata = _reader(SAMPLE, "de").metadata
    assert metadata is not None and metadata.creation_date == SAMPLE.final_at
    assert render_certificate(SAMPLE, "de") == render_certificate(SAMPLE, "de")


def test_inconsistent_data_and_unknown_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        dataclasses.replace(SAMPLE, final_at=dt.datetime(2027, 4, 2, 10, 0))
    with pytest.raises(ValueError, match="rank"):
        dataclasses.replace(SAMPLE, rank=132)
    with pytest.raises(ValueError, match="language"):
        render_certificate(SAMPLE, "fr")
