"""CFF-outline OpenType faces (Noto Sans CJK) turned into TrueType outlines reportlab can
embed: reportlab embeds only TrueType ('glyf') fonts. `fonts` converts one subset per run of
CJK text; the subset keeps the font small, and nothing in it depends on the day it is made.
"""

from __future__ import annotations

import io
from pathlib import Path

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


def cff_to_truetype(collection: Path, face_index: int, chars: frozenset[str]) -> bytes:
    """Face `face_index` of `collection` subset to `chars`, as TrueType reportlab can embed."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont as ToolsFont
    from fontTools.ttLib import newTable

    wanted = sorted(ord(c) for c in chars)
    # No timestamp of its own in the font: the same characters give the same bytes.
    font = ToolsFont(str(collection), fontNumber=face_index, recalcTimestamp=False)
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
