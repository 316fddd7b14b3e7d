"""The success review as a PDF (reportlab, pure Python: no browser, no system library), drawn from
the same sections as the HTML (render.review_view): cards as a grid, tables, lists, notes and the
usage chart as a PNG. Text is set in DejaVu Sans, the TrueType font matplotlib ships, embedded so
that accents, arrows and R$ print everywhere and the text can be searched and copied."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from sucesso.reports.render import BAND_COLOURS, review_view, usage_png

FONT, BOLD, ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"
ACCENT, INK, MUTED, LINE = (colors.HexColor(c) for c in ("#2454a6", "#1d2330", "#5b6474", "#dde2ea"))
MARGIN = 16 * mm
WIDTH = A4[0] - 2 * MARGIN
CARDS_PER_ROW = 3


@functools.cache
def _fonts() -> None:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name in (FONT, BOLD, ITALIC):
        pdfmetrics.registerFont(TTFont(name, str(folder / f"{name}.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


def _style(name: str, size: float = 9.5, font: str = FONT, colour=INK, **kw) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, textColor=colour, **kw)


STYLES = {
    "kicker": _style("kicker", 8.5, BOLD, colors.white),
    "title": _style("title", 20, BOLD, colors.white),
    "period": _style("period", 10.5, FONT, colors.white),
    "label": _style("label", 7.5, FONT, MUTED),
    "value": _style("value", 13, BOLD),
    "small": _style("small", 8, FONT, MUTED),
    "h2": _style("h2", 13, BOLD, ACCENT, spaceBefore=8, spaceAfter=5, keepWithNext=1),  # never last on a page
    "h3": _style("h3", 10, BOLD, spaceBefore=5, spaceAfter=2, keepWithNext=1),
    "body": _style("body"),
    "bullet": _style("bullet", leftIndent=11, bulletIndent=2, bulletFontName=FONT, spaceAfter=1),
    "cell": _style("cell", 8.5),
    "num": _style("num", 8.5, alignment=TA_RIGHT),
    "th": _style("th", 7.5, BOLD, MUTED),
    "th_num": _style("th_num", 7.5, BOLD, MUTED, alignment=TA_RIGHT),
    "note": _style("note", 9, ITALIC, MUTED, spaceAfter=3),
}


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(str(text)), STYLES[style])


def review_pdf(review: dict) -> bytes:
    """The review as PDF bytes (A4)."""
    _fonts()
    view = review_view(review)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=f"{view['title']} · {view['account']}",
                            author="sucesso", subject=view["period"], lang=view["language"].replace("_", "-"))
    story = [_masthead(view), Spacer(1, 4 * mm), _header(view), Spacer(1, 2 * mm)]
    chart = {"usage": lambda: _chart(usage_png(review))}
    for section in view["sections"]:
        story.append(_p(section["title"], "h2"))
        for block in section["blocks"]:
            story += [*(chart[block["name"]]() if block["kind"] == "chart" else DRAW[block["kind"]](block)),
                      Spacer(1, 2 * mm)]

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{view['title']} · {view['account']} · {view['period']}")
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, str(document.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _masthead(view: dict) -> Table:
    t = Table([[_p(view["title"].upper(), "kicker")], [_p(view["account"], "title")], [_p(view["period"], "period")]],
              colWidths=[WIDTH])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), ACCENT), ("LEFTPADDING", (0, 0), (-1, -1), 5 * mm),
                           ("TOPPADDING", (0, 0), (-1, 0), 5 * mm), ("BOTTOMPADDING", (0, -1), (-1, -1), 5 * mm)]))
    return t


def _header(view: dict) -> Table:
    """The header's (label, value) pairs, two to a row."""
    cells = [[_p(label, "label"), _p(value, "body")] for label, value in view["header"]]
    rows = [sum(cells[i:i + 2], []) for i in range(0, len(cells), 2)]
    rows = [r + [""] * (4 - len(r)) for r in rows]
    t = Table(rows, colWidths=[WIDTH * 0.14, WIDTH * 0.36] * 2)
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOX", (0, 0), (-1, -1), 0.5, LINE),
                           ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return t


def _cards(block: dict) -> list[Table]:
    def card(c: dict) -> list:
        return [_p(c["label"], "label"), _p(c["value"], "value")] + ([_p(c["note"], "small")] if c["note"] else [])

    items = block["items"]
    rows = [[card(c) for c in items[i:i + CARDS_PER_ROW]] for i in range(0, len(items), CARDS_PER_ROW)]
    rows = [r + [""] * (CARDS_PER_ROW - len(r)) for r in rows]
    t = Table(rows, colWidths=[WIDTH / CARDS_PER_ROW] * CARDS_PER_ROW)
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("GRID", (0, 0), (-1, -1), 0.5, LINE),
             ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]
    for i, c in enumerate(items):
        band = colors.HexColor(BAND_COLOURS.get(c["band"], BAND_COLOURS["missing"])) if c["band"] else ACCENT
        style.append(("LINEABOVE", (i % CARDS_PER_ROW, i // CARDS_PER_ROW), (i % CARDS_PER_ROW, i // CARDS_PER_ROW),
                      2.5, band))
    t.setStyle(TableStyle(style))
    return [t]


def _table(block: dict) -> list[Table]:
    numeric = block["numeric"]
    head = [_p(c, "th_num" if numeric[i] else "th") for i, c in enumerate(block["columns"])]
    body = [[_p(cell, "num" if numeric[i] else "cell") for i, cell in enumerate(row)] for row in block["rows"]]
    t = Table([head, *body], repeatRows=1, colWidths=_widths(block))
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                           ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return [t]


def _widths(block: dict) -> list[float]:
    """Each column as wide as its longest cell, and the widest text column (a comment) takes what
    is left of the page, at least a third of it (when that does not fit, all shrink alike)."""
    longest = [max(len(str(cell)) for cell in column) for column in zip(block["columns"], *block["rows"], strict=True)]
    widths = [min(n, 80) * 1.8 * mm + 6 * mm for n in longest]
    wide = max((i for i, num in enumerate(block["numeric"]) if not num), key=lambda i: widths[i], default=0)
    widths[wide] = max(WIDTH - (sum(widths) - widths[wide]), WIDTH / 3)
    return [w * min(1, WIDTH / sum(widths)) for w in widths]


def _list(block: dict) -> list[Paragraph]:
    items = [Paragraph(escape(i), STYLES["bullet"], bulletText="•") for i in block["items"]]
    return [_p(block["title"], "h3"), *items] if block["title"] else items


def _note(block: dict) -> list[Paragraph]:
    return [_p(block["text"], "note")]


def _chart(png: bytes) -> list[Image]:
    image = Image(io.BytesIO(png))
    image.drawHeight = WIDTH * image.imageHeight / image.imageWidth
    image.drawWidth = WIDTH
    return [image]


DRAW = {"cards": _cards, "table": _table, "list": _list, "note": _note}
