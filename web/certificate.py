"""The certificate ("Urkunde") a household downloads once its contest's result is final: one A4 PDF page."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from web.catalog import CERTIFICATE_TEXTS, LANGUAGES
from web.i18n import fmt_number, fmt_percent

# The PDF's core fonts (Helvetica, Times) cover Windows-1252: German text, typographic quotes and dashes.
_ENCODING = "windows-1252"
# Babel writes some spaces as narrow no-break spaces, which Windows-1252 lacks; a no-break space keeps
# "12,3 %" on one line all the same.
_SPACES = str.maketrans({"\u202f": "\u00a0", "\u2009": " ", "\u2007": " "})
# Latin letters that Unicode does not decompose into a base letter and an accent.
_BASE_LETTERS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŧ": "T", "ŧ": "t"}

_INK = (38, 38, 38)
_MUTED = (100, 100, 100)
_GREEN = (31, 92, 58)
_GOLD = (176, 141, 87)
_PAPER_TINT = (246, 250, 247)


@dataclass(frozen=True, slots=True)
class CertificateData:
    """What a household's certificate states; all of it comes from the contest's final result.

    savings_fraction: saving against the household's own baseline [1] (0.12 = 12 % saved, negative: used more)
    savings_kwh: energy saved in the competition period [kWh] (negative: used more)
    co2_saved_kg: CO2 avoided [kg] (negative: emitted more)
    final_at: when the result was declared final (aware)
    timezone: the contest's zone, in which dates are shown (IANA name)
    revision: id of the final snapshot, printed as a reference number
    verify_url: absolute URL of the public final result, printed and as a QR code
    """

    contest_name: str
    competition_start: dt.date
    competition_end: dt.date
    pseudonym: str
    rank: int | None
    ranked_count: int
    savings_fraction: float | None
    savings_kwh: float | None
    co2_saved_kg: float | None
    team: str | None
    team_rank: int | None
    final_at: dt.datetime
    timezone: str
    revision: int
    verify_url: str | None

    def __post_init__(self) -> None:
        if self.final_at.tzinfo is None or self.final_at.utcoffset() is None:
            raise ValueError("final_at must be timezone-aware")
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if self.competition_end < self.competition_start:
            raise ValueError("competition_end lies before competition_start")
        if self.ranked_count < 0:
            raise ValueError("ranked_count must not be negative")
        if self.rank is not None and not 1 <= self.rank <= self.ranked_count:
            raise ValueError(f"rank {self.rank} is not between 1 and ranked_count {self.ranked_count}")
        if self.team_rank is not None and (self.team is None or self.team_rank < 1):
            raise ValueError("team_rank needs a team and must be at least 1")


def render_certificate(data: CertificateData, lang: str) -> bytes:
    """The certificate as a one-page A4 PDF in ``lang`` ("de" or "en").

    The same data gives the same bytes: the PDF's creation date is the moment the result became final.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    # Long names wrap; then the page closes its gaps and shrinks the QR code rather than overlap it.
    for spacing, qr_size in _LAYOUTS:
        pdf = _draw(data, lang, spacing, qr_size)
        if pdf.fits:
            break
    return bytes(pdf.output())


# (scale of the vertical gaps, QR code's side [mm]), tried in this order
_LAYOUTS = ((1.0, 36.0), (0.6, 30.0), (0.3, 26.0))


def _draw(data: CertificateData, lang: str, spacing: float, qr_size: float) -> _Page:
    t = CERTIFICATE_TEXTS[lang]
    pdf = _Page(spacing)
    pdf.set_lang(lang)
    pdf.set_title(t["pdf_title"].format(contest=data.contest_name, pseudonym=data.pseudonym))
    pdf.set_creator("Energiesparwettbewerb")
    pdf.set_creation_date(data.final_at)

    pdf.frame()
    pdf.set_y(30)
    pdf.centered(t["kicker"].upper(), "Helvetica", "B", 10, _GREEN)
    pdf.gap(3)
    pdf.centered(t["title"], "Times", "B", 46, _INK, height=20)
    pdf.ornament(pdf.get_y() + 3)
    pdf.ln(8)
    pdf.gap(3)

    pdf.centered(t["in_contest"], "Helvetica", "", 12, _MUTED)
    pdf.gap(1)
    pdf.fitted(data.contest_name, "Helvetica", "B", 18, _INK, min_size=12)
    pdf.gap(8)
    pdf.centered(t["for"], "Helvetica", "", 12, _MUTED)
    pdf.gap(1)
    pdf.fitted(data.pseudonym, "Times", "B", 32, _INK, min_size=18)
    pdf.gap(8)

    if data.rank is not None:
        rank = t["rank"].format(rank=data.rank, count=data.ranked_count)
        pdf.centered(rank, "Helvetica", "B", 26, _GREEN, height=12)
        pdf.centered(t["rank_note"], "Helvetica", "", 11, _MUTED)
    else:
        pdf.centered(t["participation"], "Helvetica", "B", 24, _GREEN, height=12)
        pdf.centered(t["participation_note"], "Helvetica", "", 11, _MUTED)
    pdf.gap(10)

    figures = _figures(data, lang)
    if figures:
        pdf.centered(t["compared_more" if _used_more(data) else "compared_saved"], "Helvetica", "", 11, _INK)
        pdf.gap(3)
        pdf.figure_boxes(figures)
        pdf.gap(8)

    if data.team is not None:
        text = (
            t["team"].format(team=data.team)
            if data.team_rank is None
            else t["team_rank"].format(team=data.team, rank=data.team_rank)
        )
        pdf.fitted(text, "Helvetica", "B", 13, _INK, min_size=10)
        pdf.gap(6)

    start, end = (_date(day, lang) for day in (data.competition_start, data.competition_end))
    pdf.centered(t["period"].format(start=start, end=end), "Helvetica", "", 11, _INK)
    final_day = data.final_at.astimezone(ZoneInfo(data.timezone)).date()
    pdf.centered(t["final"].format(date=_date(final_day, lang)), "Helvetica", "", 11, _INK)

    pdf.footer_block(data.verify_url, qr_size, t["verify"], t["revision"].format(revision=data.revision))
    return pdf


def _used_more(data: CertificateData) -> bool:
    """Whether the household used more than its baseline (the fraction decides; kWh when it is missing)."""
    for value in (data.savings_fraction, data.savings_kwh, data.co2_saved_kg):
        if value is not None:
            return value < 0
    return False


def _figures(data: CertificateData, lang: str) -> list[tuple[str, str]]:
    """(number, label) pairs for the boxes; each value is labelled by its own sign, never as a saving
    when it is not one."""
    t = CERTIFICATE_TEXTS[lang]
    figures: list[tuple[str, str]] = []
    if data.savings_fraction is not None:
        more = data.savings_fraction < 0
        figures.append(
            (_percent(abs(data.savings_fraction), lang), t["fraction_more" if more else "fraction_saved"])
        )
    if data.savings_kwh is not None:
        more = data.savings_kwh < 0
        figures.append((f"{_kwh(abs(data.savings_kwh), lang)} kWh", t["kwh_more" if more else "kwh_saved"]))
    if data.co2_saved_kg is not None:
        more = data.co2_saved_kg < 0
        figures.append(
            (f"{_number(abs(data.co2_saved_kg), lang, 0)} kg", t["co2_more" if more else "co2_saved"])
        )
    return figures


def _number(value: float, lang: str, decimals: int) -> str:
    return fmt_number(value, lang, decimals).translate(_SPACES)


def _percent(fraction: float, lang: str) -> str:
    """0.123 -> "12,3 %" (de), "12.3%" (en): the language's own percent pattern with one decimal."""
    return fmt_percent(fraction, lang, 1).translate(_SPACES)


def _kwh(energy_kwh: float, lang: str) -> str:
    """Energy [kWh] without false precision: whole kWh from 100 on, one decimal below."""
    return _number(energy_kwh, lang, 0 if abs(energy_kwh) >= 100 else 1)


def _date(day: dt.date, lang: str) -> str:
    return format_date(day, format="long", locale=lang).translate(_SPACES)


def printable(text: str) -> str:
    """``text`` reduced to what the PDF's core fonts can show: accents that the encoding lacks are
    dropped from their letter (ő -> o, ł -> l), symbols such as emoji are left out, any other letter becomes "?"."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text.translate(_SPACES)):
        if _encodable(char):
            kept.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", _BASE_LETTERS.get(char, char))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and all(_encodable(c) for c in base):
            kept.append(base)
        elif unicodedata.category(char)[0] in "LN":
            kept.append("?")
        # else: a symbol, mark or joiner (emoji, variation selector) that the font cannot draw
    return " ".join("".join(kept).split()) or "?"


def _encodable(char: str) -> bool:
    try:
        char.encode(_ENCODING)
    except UnicodeEncodeError:
        return False
    return unicodedata.category(char) != "Cc"


class _Page(FPDF):
    """An A4 portrait page with the certificate's drawing helpers; all text passes through ``printable``."""

    def __init__(self, spacing: float) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.spacing = spacing
        self.fits = True  # cleared when the footer would overlap the text above it
        self.core_fonts_encoding = _ENCODING
        self.set_margins(25, 25, 25)
        self.set_auto_page_break(False)
        self.add_page()

    def frame(self) -> None:
        self.set_fill_color(*_PAPER_TINT)
        self.rect(10, 10, self.w - 20, self.h - 20, style="F")
        self.set_draw_color(*_GREEN)
        self.set_line_width(1.2)
        self.rect(10, 10, self.w - 20, self.h - 20)
        self.set_draw_color(*_GOLD)
        self.set_line_width(0.35)
        self.rect(13.5, 13.5, self.w - 27, self.h - 27)

    def ornament(self, y: float) -> None:
        middle = self.w / 2
        self.set_draw_color(*_GOLD)
        self.set_line_width(0.5)
        self.line(middle - 45, y, middle - 5, y)
        self.line(middle + 5, y, middle + 45, y)
        self.set_fill_color(*_GOLD)
        self.ellipse(middle - 1.6, y - 1.6, 3.2, 3.2, style="F")

    def gap(self, height: float) -> None:
        """Vertical space [mm] at the current spacing."""
        self.ln(height * self.spacing)

    def _style(self, family: str, style: str, size: float, color: tuple[int, int, int]) -> None:
        self.set_font(family, style, size)
        self.set_text_color(*color)

    def centered(
        self,
        text: str,
        family: str,
        style: str,
        size: float,
        color: tuple[int, int, int],
        height: float | None = None,
    ) -> None:
        self._style(family, style, size, color)
        self.set_x(self.l_margin)
        line_height = height if height is not None else size * 0.5
        self.cell(0, line_height, printable(text), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fitted(
        self,
        text: str,
        family: str,
        style: str,
        size: float,
        color: tuple[int, int, int],
        min_size: float,
    ) -> None:
        """A centered line that shrinks to fit the width, and wraps only if even ``min_size`` is too large."""
        shown = printable(text)
        width = self.w - self.l_margin - self.r_margin
        while size > min_size:
            self.set_font(family, style, size)
            if self.get_string_width(shown) <= width:
                break
            size -= 1
        self._style(family, style, size, color)
        self.set_x(self.l_margin)
        line_height = size * 0.45
        self.multi_cell(0, line_height, shown, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def figure_boxes(self, figures: list[tuple[str, str]]) -> None:
        gap = 6.0
        box_width = 48.0
        box_height = 24.0
        total = len(figures) * box_width + (len(figures) - 1) * gap
        x = (self.w - total) / 2
        y = self.get_y()
        self.set_draw_color(*_GREEN)
        self.set_line_width(0.3)
        self.set_fill_color(255, 255, 255)
        for number, label in figures:
            self.rect(x, y, box_width, box_height, style="DF", round_corners=True, corner_radius=2.5)
            self._style("Helvetica", "B", 17, _GREEN)
            self.set_xy(x, y + 4)
            self.cell(box_width, 9, printable(number), align="C")
            self._style("Helvetica", "", 9.5, _INK)
            self.set_xy(x, y + 14)
            self.cell(box_width, 5, printable(label), align="C")
            x += box_width + gap
        self.set_xy(self.l_margin, y + box_height)

    def footer_block(self, url: str | None, qr_size: float, verify_text: str, revision_text: str) -> None:
        """The QR code of the public result with its URL under it, and the reference number at the bottom."""
        bottom = self.h - 22
        if url is not None:
            self.set_font("Helvetica", "", 7)  # the URL's smallest size, before it wraps
            width = self.w - self.l_margin - self.r_margin
            url_lines = 1 if self.get_string_width(printable(url)) <= width else 2
            top = bottom - 4 - 4 * url_lines - qr_size
            self.fits = self.get_y() <= top - 8
            self.set_y(top - 6)
            self.centered(verify_text, "Helvetica", "", 9.5, _MUTED)
            qr = segno.make(url, error="m", micro=False)
            png = io.BytesIO()
            qr.save(png, kind="png", scale=10, border=4)  # the quiet zone the QR standard asks for
            png.seek(0)
            self.image(png, x=(self.w - qr_size) / 2, y=top, w=qr_size, h=qr_size, alt_text=url)
            self.set_y(top + qr_size + 0.5)
            self.fitted(url, "Helvetica", "", 9, _INK, min_size=7)
        else:
            self.fits = self.get_y() <= bottom - 4
        self.set_y(bottom)
        self.centered(revision_text, "Helvetica", "", 8.5, _MUTED)
