"""Fonts for every portal PDF: embedded Noto TrueType faces, a fallback per script, and text
made ready for reportlab (Arabic shaped, right-to-left runs in visual order).

reportlab draws one font per text run and knows nothing of scripts or direction, so text
goes through `prepare` first:
- Arabic is shaped into its presentation forms (arabic-reshaper), then every run is put in
  visual order (python-bidi, Unicode bidi algorithm). NFKC maps the presentation forms back
  to the letters, which is how the tests compare what `pdftotext` extracts.
- Each character is drawn with the first face that has it: Noto Sans (Latin, Vietnamese,
  Cyrillic, Greek), Noto Sans Arabic, Noto Sans Hebrew, the symbol faces, DejaVu Sans, then
  Noto Sans CJK.
- A character no embeddable face has (emoji: Noto Color Emoji is a bitmap font reportlab
  cannot embed) prints as its Unicode name in brackets, e.g. "[SMILING FACE]", so it is
  visible and searchable instead of an empty box.

Noto Sans CJK ships only as CFF-outline OpenType, which reportlab cannot embed. Each run of
CJK text gets the face subset to exactly its characters and converted to TrueType outlines
(fontTools subset and cu2qu), cached in memory by character set: the same text always
yields the same font bytes, so output stays deterministic.

Known limit: bidi runs are reordered per text run before reportlab wraps lines, so a long
right-to-left paragraph that wraps onto several lines reads its lines in reverse order.
Names, addresses and short values (what the portal prints) fit on one line.
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
# The TrueType-only fields of a version 1.0 'maxp' table (CFF fonts have version 0.5).
_MAXP_ZEROES = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxTwilightPoints",
    "maxStorage",
    "maxFunctionDefs",
    "maxInstructionDefs",
    "maxStackElements",
    "maxSizeOfInstructions",
    "maxComponentElements",
    "maxComponentDepth",
)


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


def _cff_to_truetype(collection: Path, chars: frozenset[str]) -> bytes:
    """The CJK face subset to `chars`, as a TrueType font reportlab can embed."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont as ToolsFont
    from fontTools.ttLib import newTable

    wanted = sorted(ord(c) for c in chars)
    # No timestamp of its own in the font: the same characters give the same bytes.
    font = ToolsFont(str(collection), fontNumber=CJK_FACE_INDEX, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []  # reportlab draws glyphs by cmap only
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)

    # CFF cubic outlines to TrueType quadratic ones (fontTools' otf2ttf recipe).
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"] = newTable("maxp")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for name in _MAXP_ZEROES:
        setattr(maxp, name, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font["post"].glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@functools.cache
def _cjk_face(chars: frozenset[str]) -> str:
    """Registers (once) the converted CJK font for `chars`; returns its reportlab name."""
    digest = hashlib.sha256("".join(sorted(chars)).encode()).hexdigest()[:12]
    name = f"{_CJK_PREFIX}{digest}"
    bold_path = CJK_BOLD_COLLECTION if CJK_BOLD_COLLECTION.is_file() else CJK_COLLECTION
    for variant, path in ((name, CJK_COLLECTION), (f"{name}-Bold", bold_path)):
        pdfmetrics.registerFont(TTFont(variant, io.BytesIO(_cff_to_truetype(path, chars))))
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


def visual(text: str) -> str:
    """`text` shaped (Arabic) and in visual order, ready to draw left to right."""
    text = unicodedata.normalize("NFC", text)
    if not _RTL.search(text):
        return text
    if _ARABIC.search(text):
        text = arabic_reshaper.reshape(text)
    return get_display(text)


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
    """Paragraph markup with each text run shaped, reordered and given a face that has it."""
    register_fonts()
    out: list[str] = []
    for part in _TAG.split(markup):
        if not part or part.startswith("<"):
            out.append(part)
            continue
        text = visual(html.unescape(part))  # any entity, named or numeric
        for family, piece in runs(text, base):
            escaped = xml_escape(piece)
            out.append(escaped if family == base else f'<font face="{family}">{escaped}</font>')
    return "".join(out)


class Paragraph(_ReportlabParagraph):
    """reportlab's Paragraph, with its text prepared for any script (see `prepare_markup`)."""

    def __init__(self, text: str | None, style: Any = None, *args: Any, **kwargs: Any) -> None:
        # reportlab builds the halves of a split paragraph from prepared fragments (text
        # None): preparing them again would reverse right-to-left runs back.
        if text is not None and kwargs.get("frags") is None:
            base = MONO if style is not None and style.fontName.startswith(MONO) else SANS
            if style is not None and style.alignment == TA_LEFT and right_to_left(text):
                # A paragraph that starts in Arabic or Hebrew reads from the right margin.
                style = style.clone(f"{style.name}-rtl", alignment=TA_RIGHT)
            text = prepare_markup(text, base)
        super().__init__(text, style, *args, **kwargs)


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
