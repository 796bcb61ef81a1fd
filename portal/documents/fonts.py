"""Fonts for every portal PDF: embedded Noto TrueType faces, a fallback per script, and text
made ready for reportlab (Arabic shaped, right-to-left text in display order).

reportlab draws one font per text run and knows nothing of scripts or direction, so text
goes through `prepare` first:
- Arabic is shaped into its presentation forms (arabic-reshaper). NFKC maps the presentation
  forms back to the letters, which is how the tests compare what `pdftotext` extracts.
- Right-to-left text is put in display order by the Unicode bidi algorithm (python-bidi): a
  single line (`draw_string`) at once; a `Paragraph` only after reportlab has wrapped it in
  logical order, line by line (`bidi_lines`), so a long paragraph's lines stay in order.
- Each character is drawn with the first face that has it: Noto Sans (Latin, Vietnamese,
  Cyrillic, Greek), Noto Sans Arabic, Noto Sans Hebrew, the symbol faces, DejaVu Sans, then
  Noto Sans CJK.
- A character no embeddable face has (emoji: Noto Color Emoji is a bitmap font reportlab
  cannot embed) prints as its Unicode name in brackets, e.g. "[SMILING FACE]", so it is
  visible and searchable instead of an empty box.

Noto Sans CJK ships only as CFF-outline OpenType, which reportlab cannot embed. Each run of
CJK text gets the face subset to exactly its characters and converted to TrueType outlines
(`cff_fonts`: fontTools subset and cu2qu), cached in memory by character set: the same text
always yields the same font bytes, so output stays deterministic.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import arabic_reshaper
from bidi import get_display
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph as _ReportlabParagraph
from reportlab.platypus.tables import CellStyle

from portal.documents import pdfa
from portal.documents.bidi_lines import display_lines
from portal.documents.cff_fonts import cff_to_truetype

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
CJK_COLLECTION = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_BOLD_COLLECTION = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
CJK_FACE_INDEX = 2  # "Noto Sans CJK SC" in Debian's collection: simplified Chinese forms

SANS = "PortalSans"
MONO = "PortalMono"


@dataclass(frozen=True)
class Face:
    """A family registered with reportlab under `name`, `name`-Bold and so on."""

    name: str
    regular: Path
    bold: Path
    italic: Path | None = None
    bold_italic: Path | None = None


_BASE = Face(
    SANS,
    NOTO_DIR / "NotoSans-Regular.ttf",
    NOTO_DIR / "NotoSans-Bold.ttf",
    NOTO_DIR / "NotoSans-Italic.ttf",
    NOTO_DIR / "NotoSans-BoldItalic.ttf",
)
# Debian's Noto packages have no monospaced Latin face: DejaVu Sans Mono (fonts-dejavu-core).
_MONO = Face(MONO, DEJAVU_DIR / "DejaVuSansMono.ttf", DEJAVU_DIR / "DejaVuSansMono-Bold.ttf")
_FALLBACKS = (
    Face("PortalArabic", NOTO_DIR / "NotoSansArabic-Regular.ttf",
         NOTO_DIR / "NotoSansArabic-Bold.ttf"),
    Face("PortalHebrew", NOTO_DIR / "NotoSansHebrew-Regular.ttf",
         NOTO_DIR / "NotoSansHebrew-Bold.ttf"),
    Face("PortalSymbols", NOTO_DIR / "NotoSansSymbols-Regular.ttf",
         NOTO_DIR / "NotoSansSymbols-Bold.ttf"),
    Face("PortalSymbols2", NOTO_DIR / "NotoSansSymbols2-Regular.ttf",
         NOTO_DIR / "NotoSansSymbols2-Regular.ttf"),
    Face("PortalDejaVu", DEJAVU_DIR / "DejaVuSans.ttf", DEJAVU_DIR / "DejaVuSans-Bold.ttf"),
)  # fmt: skip
_CJK_PREFIX = "PortalCJK"
# Characters that take the face of their neighbours instead of choosing one.
_NEUTRAL_CATEGORIES = {"Zs", "Mn", "Me", "Cf"}
_DROPPED = {"\ufe0e", "\ufe0f", "\u200d"}  # emoji variation selectors and joiner
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_TAG = re.compile(r"(<[^>]*>)")


# ---------------------------------------------------------------- registration


def _register(face: Face) -> None:
    variants = {
        face.name: face.regular,
        f"{face.name}-Bold": face.bold,
        f"{face.name}-Italic": face.italic or face.regular,
        f"{face.name}-BoldItalic": face.bold_italic or face.bold,
    }
    for name, path in variants.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # Lets <b> and <i> in Paragraph markup, and <font face=...> inside them, find the faces.
    pdfmetrics.registerFontFamily(
        face.name,
        normal=face.name,
        bold=f"{face.name}-Bold",
        italic=f"{face.name}-Italic",
        boldItalic=f"{face.name}-BoldItalic",
    )


@functools.cache
def register_fonts() -> None:
    """Registers the base, mono and fallback faces with reportlab (once per process)."""
    missing = [str(p) for f in (_BASE, _MONO, *_FALLBACKS) for p in (f.regular, f.bold)
               if not p.is_file()]  # fmt: skip
    if missing:
        raise RuntimeError(
            "The portal's PDF fonts are missing (install fonts-noto-core, "
            f"fonts-noto-cjk and fonts-dejavu-core): {', '.join(missing)}"
        )
    for face in (_BASE, _MONO, *_FALLBACKS):
        _register(face)
    # A table sets its cells' font even when every cell is a Paragraph; reportlab's default
    # there is Helvetica, which would then be declared on the page and never embedded.
    CellStyle.fontname = SANS
    if ttfonts.makeToUnicodeCMap is not _to_unicode_cmap:
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    pdfa.install()


_REPORTLAB_TO_UNICODE = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters beyond U+FFFF (emoji) written as the
    UTF-16 surrogate pair the CMap format wants, not as five hex digits readers misread."""
    cmap = _REPORTLAB_TO_UNICODE(fontname, [v if v <= 0xFFFF else 0xFFFD for v in subset])
    for index, value in enumerate(subset):
        if value > 0xFFFF:
            pair = chr(value).encode("utf-16-be").hex().upper()
            cmap = cmap.replace(f"<{index:02X}> <FFFD>", f"<{index:02X}> <{pair}>", 1)
    return cmap


@functools.cache
def _coverage(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont as ToolsFont

    with ToolsFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def _cjk_coverage() -> frozenset[int]:
    from fontTools.ttLib import TTFont as ToolsFont

    if not CJK_COLLECTION.is_file():
        return frozenset()
    with ToolsFont(str(CJK_COLLECTION), fontNumber=CJK_FACE_INDEX, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def _cjk_face(chars: frozenset[str]) -> str:
    """Registers (once) the converted CJK font for `chars`; returns its reportlab name."""
    digest = hashlib.sha256("".join(sorted(chars)).encode()).hexdigest()[:12]
    name = f"{_CJK_PREFIX}{digest}"
    bold_path = CJK_BOLD_COLLECTION if CJK_BOLD_COLLECTION.is_file() else CJK_COLLECTION
    for variant, path in ((name, CJK_COLLECTION), (f"{name}-Bold", bold_path)):
        pdfmetrics.registerFont(
            TTFont(variant, io.BytesIO(cff_to_truetype(path, CJK_FACE_INDEX, chars)))
        )
    pdfmetrics.registerFontFamily(
        name, normal=name, bold=f"{name}-Bold", italic=name, boldItalic=f"{name}-Bold"
    )
    return name


# ---------------------------------------------------------------- choosing faces


def face_for(char: str) -> str | None:
    """The family that draws `char`, or None when no embeddable face has it."""
    code = ord(char)
    if code in _coverage(_BASE.regular):
        return _BASE.name
    for face in _FALLBACKS:
        if code in _coverage(face.regular):
            return face.name
    if code in _cjk_coverage():
        return _CJK_PREFIX  # the face is made for the whole run, see `runs`
    return None


def _placeholder(char: str) -> str:
    """What prints for a character no font can draw: its Unicode name, visibly."""
    return f"[{unicodedata.name(char, f'U+{ord(char):04X}')}]"


def right_to_left(markup: str) -> bool:
    """True when the first letter with a direction (tags aside) is Arabic or Hebrew."""
    for char in "".join(p for p in _TAG.split(markup) if not p.startswith("<")):
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def shaped(text: str) -> str:
    """`text` with Arabic shaped into its presentation forms, still in logical order."""
    text = unicodedata.normalize("NFC", text)
    return arabic_reshaper.reshape(text) if _ARABIC.search(text) else text


def visual(text: str) -> str:
    """`text` (one line) shaped and in visual order, ready to draw left to right."""
    text = shaped(text)
    return get_display(text) if _RTL.search(text) else text


def _covers(family: str, char: str, base: str) -> bool:
    if family == _CJK_PREFIX:
        return ord(char) in _cjk_coverage()
    face = _face(base) if family == base else next(f for f in _FALLBACKS if f.name == family)
    return ord(char) in _coverage(face.regular)


def runs(text: str, base: str = SANS) -> Iterator[tuple[str, str]]:
    """(family, text) runs of already visual text; unknown characters become placeholders."""
    pending: list[tuple[str, list[str]]] = []
    for char in text:
        if char in _DROPPED:
            continue
        current = pending[-1][0] if pending else base
        category = unicodedata.category(char)
        if category == "Cc" and char.isspace():
            family, piece = current, char  # line breaks and tabs: reportlab never draws them
        elif category in _NEUTRAL_CATEGORIES and _covers(current, char, base):
            # Spaces and combining marks stay in their neighbour's face when it has them.
            family, piece = current, char
        elif category in ("Cc", "Cf") and face_for(char) is None:
            continue  # invisible controls and marks no face draws: nothing to print
        else:
            family = base if _covers(base, char, base) else face_for(char)
            piece = char
            if family is None:
                family, piece = base, _placeholder(char)
        if pending and pending[-1][0] == family:
            pending[-1][1].append(piece)
        else:
            pending.append((family, [piece]))
    for family, pieces in pending:
        text = "".join(pieces)
        if family == _CJK_PREFIX:
            family = _cjk_face(frozenset(c for c in text if ord(c) in _cjk_coverage()))
        yield family, text


def _face(family: str) -> Face:
    return _MONO if family == MONO else _BASE


# ---------------------------------------------------------------- reportlab entry points


def prepare_markup(markup: str, base: str = SANS) -> str:
    """Paragraph markup with each text run shaped and given a face that has it.

    The text stays in logical order: `Paragraph` reorders it line by line once wrapped.
    """
    register_fonts()
    out: list[str] = []
    for part in _TAG.split(markup):
        if not part or part.startswith("<"):
            out.append(part)
            continue
        text = shaped(html.unescape(part))  # any entity, named or numeric
        for family, piece in runs(text, base):
            escaped = xml_escape(piece)
            out.append(escaped if family == base else f'<font face="{family}">{escaped}</font>')
    return "".join(out)


class Paragraph(_ReportlabParagraph):
    """reportlab's Paragraph, with its text prepared for any script (see `prepare_markup`),
    wrapped in logical order and drawn with each line in display order (`bidi_lines`)."""

    # None when the text has no right-to-left letter (drawn as reportlab wrapped it); else
    # whether the paragraph's base direction, from its first strong letter, is right to left.
    rtl_base: bool | None = None

    def __init__(self, text: str | None, style: Any = None, *args: Any, **kwargs: Any) -> None:
        # reportlab builds the halves of a split paragraph from prepared fragments (text
        # None): those are prepared already, and `split` passes the direction on.
        if text is not None and kwargs.get("frags") is None:
            base = MONO if style is not None and style.fontName.startswith(MONO) else SANS
            if _RTL.search(text):
                self.rtl_base = right_to_left(text)
            if style is not None and style.alignment == TA_LEFT and self.rtl_base:
                # A paragraph that starts in Arabic or Hebrew reads from the right margin.
                style = style.clone(f"{style.name}-rtl", alignment=TA_RIGHT)
            text = prepare_markup(text, base)
        super().__init__(text, style, *args, **kwargs)

    def split(self, availWidth: float, availHeight: float) -> list[Any]:  # noqa: N803 (reportlab)
        parts = super().split(availWidth, availHeight)
        for part in parts:
            part.rtl_base = self.rtl_base
        return parts

    def drawPara(self, debug: int = 0) -> None:  # noqa: N802 (reportlab's name)
        if self.rtl_base is None:
            super().drawPara(debug)
            return
        # Only the drawing sees display order; a later split still needs the logical lines.
        logical = self.blPara
        self.blPara = display_lines(logical, self.rtl_base)
        try:
            super().drawPara(debug)
        finally:
            self.blPara = logical


def draw_string(
    canvas: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left"
) -> float:
    """Draws one line of any script at (x, y); align "left", "centre" or "right".

    `font` is a registered variant such as "PortalSans-Bold"; fallback faces keep its weight.
    Returns the width drawn.
    """
    register_fonts()
    bold = font.endswith("Bold")
    base = font.removesuffix("-Bold")
    pieces = [
        (f"{family}-Bold" if bold else family, piece) for family, piece in runs(visual(text), base)
    ]
    width = sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in pieces)
    if align == "centre":
        x -= width / 2
    elif align == "right":
        x -= width
    for name, piece in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, name, size)
    return width
