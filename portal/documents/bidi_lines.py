"""Right-to-left paragraphs put in display order one line at a time, after reportlab wraps them.

The Unicode bidi algorithm reorders a paragraph line by line (UAX #9, rule L2): text is
wrapped in logical order, then each line is reversed where its levels say so. Reordering the
whole paragraph first and wrapping it afterwards puts a right-to-left paragraph's lines in
reverse order, the first sentence at the bottom. So `fonts.Paragraph` keeps its text in logical
order (Arabic shaped, a face per run) for reportlab to wrap and split across pages, and only
the lines it is about to draw go through `display_lines`.

A line can mix fragments (a bold name inside an Arabic sentence, Latin digits in Noto Sans
beside Arabic letters in Noto Sans Arabic), and a fragment can straddle a direction change, so
each character's place on the line is needed, not just the reordered string. python-bidi's
Rust `get_display` returns only the string; its pure-Python implementation (`bidi.algorithm`)
resolves the same levels step by step on per-character records, which carry their logical
index through the reordering here. Reordering a line moves characters, never changes them
(bar mirrored brackets, which have equal widths), so the widths reportlab measured still hold.
"""

from __future__ import annotations

from typing import Any

from bidi import algorithm as uba

# Stands in, during reordering, for an inline object on the line (an image, an anchor): a
# neutral character, so the object keeps its place between its neighbours.
_OBJECT = "\ufffc"


def display_order(text: str, rtl: bool) -> list[tuple[int, str]]:
    """`text`, one line, in display order: (logical index, character as drawn) pairs.

    `rtl` is the paragraph's base direction (its first strong letter), which also governs
    lines that happen to hold only left-to-right words. Mirrored characters (brackets in a
    right-to-left run) come back as their mirror images; explicit bidi controls are dropped.
    """
    storage = uba.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    uba.get_embedding_levels(text, storage)
    for index, record in enumerate(storage["chars"]):
        record["index"] = index
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    uba.apply_mirroring(storage, False)
    return [(record["index"], record["ch"]) for record in storage["chars"]]


def _display_words(words: list[str], rtl: bool) -> list[str]:
    """A one-font line (reportlab's kind 0: words joined by single spaces) in display order."""
    text = " ".join(words)
    return "".join(char for _, char in display_order(text, rtl)).split(" ")


def _display_frags(frags: list[Any], rtl: bool) -> list[Any]:
    """A line of styled fragments (reportlab's kind 1) in display order.

    Each fragment's characters go where the bidi algorithm puts them; neighbours from the
    same fragment are drawn together again, as a copy of it with just those characters.
    """
    owners: list[int] = []  # the fragment of each character of the line
    pieces: list[str] = []
    trailing: list[Any] = []  # empty markers (a <br/>): nothing to place, kept last
    for number, frag in enumerate(frags):
        if getattr(frag, "cbDefn", None) is not None:
            pieces.append(_OBJECT)
            owners.append(number)
        elif frag.text:
            pieces.append(frag.text)
            owners += [number] * len(frag.text)
        else:
            trailing.append(frag)
    groups: list[tuple[int, list[str]]] = []
    for index, char in display_order("".join(pieces), rtl):
        owner = owners[index]
        if groups and groups[-1][0] == owner:
            groups[-1][1].append(char)
        else:
            groups.append((owner, [char]))
    out = []
    for owner, chars in groups:
        frag = frags[owner]
        is_object = getattr(frag, "cbDefn", None) is not None
        out.append(frag if is_object else frag.clone(text="".join(chars)))
    return out + trailing


def display_lines(bl_para: Any, rtl: bool) -> Any:
    """A copy of reportlab's broken-lines structure with every line in display order.

    The original stays in logical order: reportlab splits a paragraph across pages from it.
    """
    if bl_para.kind == 0:
        lines = [(extra, _display_words(words, rtl)) for extra, words in bl_para.lines]
    else:
        lines = [line.clone(words=_display_frags(line.words, rtl)) for line in bl_para.lines]
    return bl_para.clone(lines=lines)
