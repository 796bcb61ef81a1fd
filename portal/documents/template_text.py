"""Filling an agreement template: its {{placeholders}} replaced with values, as plain text
or as reportlab Paragraph markup; the citable provisions of a template (a notice of default
cites them); the whole filled agreement as plain text; the template shipped with the portal.

The markup and its parsing are in `template_markup`. This module knows nothing about PDFs
beyond escaping for reportlab's Paragraph markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from portal.documents.template_markup import (
    FOOTNOTE_REF,
    PLACEHOLDER,
    PLACEHOLDERS,
    Block,
    Paragraph,
    Provision,
    SubItem,
    TemplateDoc,
    TemplateError,
    parse_template,
)

SAMPLE_TEMPLATE_DIR = Path(__file__).parent / "sample_templates"
SAMPLE_TEMPLATE_NAME = "partner-agency-agreement-v1"

# One pass over a text finds both kinds of inline markup, so a value that happens to
# contain "[^1]" or "{{x}}" is never interpreted a second time.
_INLINE = re.compile(PLACEHOLDER.pattern + "|" + FOOTNOTE_REF.pattern)
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


# ---------------------------------------------------------------- placeholders


def _normalise_value(value: str) -> str:
    # A multi-line address reads as one line inside a sentence.
    lines = (" ".join(part.split()) for part in value.splitlines())
    return ", ".join(line for line in lines if line)


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def check_values(text: str, values: Mapping[str, str]) -> None:
    """Raise TemplateError for unknown value names or placeholders in `text` left unfilled."""
    unknown = sorted(set(values) - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError(f"no such placeholder: {', '.join(unknown)}")
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        line = _line_of(text, match.start())
        if name not in PLACEHOLDERS:
            raise TemplateError(f"unknown placeholder {{{{{name}}}}}", line)
        if not _normalise_value(values.get(name) or ""):
            raise TemplateError(f"no value given for placeholder {{{{{name}}}}}", line)


def _substitute(
    text: str,
    values: Mapping[str, str] | None,
    *,
    literal: Callable[[str], str],
    value: Callable[[str], str],
    footnote: Callable[[str], str],
) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(literal(text[position : match.start()]))
        name, label = match.group(1), match.group(2)
        if label is not None:
            out.append(footnote(label))
        elif values is None:
            out.append(literal(match.group(0)))  # preview of the bare template
        else:
            out.append(value(_normalise_value(values[name])))
        position = match.end()
    out.append(literal(text[position:]))
    return "".join(out)


def fill(body: str, values: Mapping[str, str]) -> str:
    """Replace every {{placeholder}} in `body` with its value; plain text out.

    Errors (TemplateError) on a placeholder unknown to PLACEHOLDERS, on a value name that is
    not a placeholder, and on a placeholder used in `body` without a (non-blank) value.
    Footnote citations "[^1]" are left as written.
    """
    check_values(body, values)
    return _substitute(body, values, literal=str, value=str, footnote=lambda label: f"[^{label}]")


def plain_text(text: str, values: Mapping[str, str] | None) -> str:
    """Filled text for people: footnote citations become superscript digits."""
    if values is not None:
        check_values(text, values)
    return _substitute(
        text,
        values,
        literal=str,
        value=str,
        footnote=lambda label: label.translate(_SUPERSCRIPT_DIGITS),
    )


def pdf_markup(text: str, values: Mapping[str, str] | None) -> str:
    """Filled text as reportlab Paragraph markup.

    Both the template's own words ("HMIS & Data Committee") and the values ("<b>&Co")
    are escaped, so they print literally; only footnote citations become markup.
    """
    if values is not None:
        check_values(text, values)
    return _substitute(
        text,
        values,
        literal=xml_escape,
        value=xml_escape,
        footnote=lambda label: f"<super>{label}</super>",
    )


# ---------------------------------------------------------------- views of the tree


def short_title(title: str | None, text: str) -> str:
    """The given short title, else the text up to its first stop, at most eight words."""
    if title:
        return title
    plain = FOOTNOTE_REF.sub("", text)
    first = re.split(r"[.:;]\s", plain + " ", maxsplit=1)[0].strip()
    words = first.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


def sections(body: str) -> list[tuple[str, str]]:
    """(citation, short title) of every numbered provision, e.g. ("VIII.B.3", "Default and cure").

    A section without numbered provisions (e.g. "III.B", "Scope") is itself the citable
    unit, so it is listed in its place.
    """
    doc = parse_template(body)
    out: list[tuple[str, str]] = []
    for article in doc.articles:
        for section in article.sections:
            if not section.provisions:
                out.append((section.citation, section.title))
            for provision in section.provisions:
                out.append((provision.citation, short_title(provision.title, provision.text)))
    return out


def to_plain_text(doc: TemplateDoc, values: Mapping[str, str] | None) -> str:
    """The whole filled agreement as readable plain text (numbering kept)."""
    lines: list[str] = []

    def blocks(items: list[Block], indent: str) -> None:
        for block in items:
            if isinstance(block, Paragraph):
                lines.append(indent + plain_text(block.text, values))
            else:
                lines.extend(f"{indent}• {plain_text(i.text, values)}" for i in block.items)

    def numbered(item: Provision | SubItem, marker: str, indent: str) -> None:
        title = f"{plain_text(item.title, values)}. " if item.title else ""
        lines.append(f"{indent}{marker}. {title}{plain_text(item.text, values)}")
        blocks(item.blocks, indent + "   ")

    blocks(doc.preamble, "")
    for article in doc.articles:
        lines += ["", f"{article.numeral}. {plain_text(article.title, values).upper()}"]
        blocks(article.blocks, "")
        for section in article.sections:
            lines += ["", f"{section.letter}. {plain_text(section.title, values)}"]
            blocks(section.blocks, "")
            for provision in section.provisions:
                numbered(provision, str(provision.number), "")
                for item in provision.items:
                    numbered(item, item.letter, "   ")
    if doc.footnotes:
        lines.append("")
        lines += [f"{note.label} {plain_text(note.text, values)}" for note in doc.footnotes]
    return "\n".join(lines).strip() + "\n"


# ---------------------------------------------------------------- the shipped sample


@dataclass(frozen=True)
class SampleTemplate:
    name: str
    title: str
    template_version: str
    revised_date: str
    body: str


def load_sample_template(name: str = SAMPLE_TEMPLATE_NAME) -> SampleTemplate:
    """The agreement text shipped with the portal: `<name>.txt` plus metadata `<name>.json`."""
    meta = json.loads((SAMPLE_TEMPLATE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    body = (SAMPLE_TEMPLATE_DIR / f"{name}.txt").read_text(encoding="utf-8")
    return SampleTemplate(
        name=name,
        title=meta["title"],
        template_version=meta["template_version"],
        revised_date=meta["revised_date"],
        body=body,
    )
