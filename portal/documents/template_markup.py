"""The plain-text markup SSF uses to publish agreement template versions.

An SSF admin writes a template in a textarea. The markup, line by line:

    # I. Background and purpose      article heading; roman numerals in order (I, II, ...)
    ## A. General                    section heading inside an article; letters in order
    1. [Short title] Provision text  numbered provision inside a section; the bracketed
                                     short title is optional (a default notice cites it)
       a. [Short title] Sub-item     lettered sub-item of the provision above
    - Bullet item                    bullet list item (also "•" or "*")
    Any other line                   paragraph text
    [^1]: Footnote text              footnote definition; cite it in text as "[^1]"

Consecutive non-blank lines join into one paragraph or item (a textarea may wrap them).
After a blank line, an INDENTED paragraph continues the provision or sub-item above it;
an unindented paragraph after a provision is an error (which provision would it belong to?).
Placeholders are written {{name}}; PLACEHOLDERS lists the names, unknown ones are errors.

This module reads the markup into a tree (parse_template) and refuses malformed input with
its line number; filling the placeholders is in `template_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDERS: dict[str, str] = {
    "agency_name": "Legal name of the Partner Agency",
    "agency_address": "Street address of the Partner Agency (line breaks become commas)",
    "executive_director_name": "Name of the Partner Agency's executive director",
    "executive_director_title": "Title of that person, e.g. 'Executive Director' or 'CEO'",
    "lead_agency_name": "Name of the HMIS Lead Agency (the portal's LEAD_AGENCY_NAME setting)",
    "template_version": "Version label of this template, e.g. '1'",
    "revised_date": "Revision date printed on the template, e.g. '06/19/2015'",
}

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
FOOTNOTE_REF = re.compile(r"\[\^(\d+)\](?!:)")
_ARTICLE = re.compile(r"([IVXLCDM]+)\.\s+(\S.*)")
_SECTION = re.compile(r"([A-Z])\.\s+(\S.*)")
_PROVISION = re.compile(r"(\s*)(\d+)\.\s+(.*)")
_SUB_ITEM = re.compile(r"(\s*)([a-z])\.\s+(.*)")
_BULLET = re.compile(r"(\s*)[-•*]\s+(.*)")
_FOOTNOTE_DEF = re.compile(r"\[\^(\d+)\]:\s*(.*)")
_SHORT_TITLE = re.compile(r"\[(?!\^)([^\]]+)\]\s*(.*)")


class TemplateError(ValueError):
    """A template or its values cannot be used; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


# ---------------------------------------------------------------- the document tree


@dataclass
class Paragraph:
    text: str
    line: int


@dataclass
class BulletItem:
    text: str
    line: int


@dataclass
class BulletList:
    items: list[BulletItem]
    line: int


Block = Paragraph | BulletList


@dataclass
class SubItem:
    letter: str
    citation: str  # "IV.B.4.a"
    title: str | None
    text: str
    blocks: list[Block]
    line: int


@dataclass
class Provision:
    number: int
    citation: str  # "VIII.B.3"
    title: str | None
    text: str
    blocks: list[Block]  # further paragraphs, before any sub-items
    items: list[SubItem]
    line: int


@dataclass
class Section:
    letter: str
    citation: str  # "VIII.B"
    title: str
    blocks: list[Block]  # paragraphs before (or instead of) numbered provisions
    provisions: list[Provision]
    line: int


@dataclass
class Article:
    numeral: str
    citation: str  # "VIII"
    title: str
    blocks: list[Block]  # paragraphs before the first section
    sections: list[Section]
    line: int


@dataclass
class Footnote:
    label: str
    text: str
    line: int


@dataclass
class TemplateDoc:
    preamble: list[Block] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)


# ---------------------------------------------------------------- parsing


def to_roman(number: int) -> str:
    numerals = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


class _Parser:
    """Line-by-line state machine; see the module docstring for the rules."""

    def __init__(self) -> None:
        self.doc = TemplateDoc()
        self.article: Article | None = None
        self.section: Section | None = None
        self.provision: Provision | None = None
        self.sub_item: SubItem | None = None
        # The thing that receives the next line if it is plain text (no blank line between).
        self.open_text: Paragraph | BulletItem | Provision | SubItem | Footnote | None = None
        self.footnote_refs: list[tuple[str, int]] = []

    def parse(self, body: str) -> TemplateDoc:
        lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, raw in enumerate(lines, start=1):
            line = raw.expandtabs(4).rstrip()
            self._check_inline(line, number)
            self._line(line, number)
        self._check_footnotes()
        if not self.doc.articles:
            raise TemplateError("the template has no article heading such as '# I. Purpose'", 1)
        return self.doc

    def _check_inline(self, line: str, number: int) -> None:
        for match in PLACEHOLDER.finditer(line):
            if match.group(1) not in PLACEHOLDERS:
                raise TemplateError(
                    f"unknown placeholder {{{{{match.group(1)}}}}}; "
                    f"known placeholders: {', '.join(PLACEHOLDERS)}",
                    number,
                )
        leftover = PLACEHOLDER.sub("", line)
        if "{{" in leftover or "}}" in leftover:
            raise TemplateError(
                "broken placeholder: write it as {{name}} with letters, digits and _ only",
                number,
            )
        self.footnote_refs += [(m.group(1), number) for m in FOOTNOTE_REF.finditer(line)]

    def _line(self, line: str, number: int) -> None:
        if not line.strip():
            self.open_text = None
            return
        stripped = line.strip()
        if stripped.startswith("#"):
            self._heading(stripped, number)
        elif match := _FOOTNOTE_DEF.fullmatch(stripped):
            self._footnote(match.group(1), match.group(2), number)
        elif match := _PROVISION.fullmatch(line):
            self._provision(int(match.group(2)), match.group(3), number)
        elif match := _SUB_ITEM.fullmatch(line):
            self._sub_item(match.group(2), match.group(3), number)
        elif match := _BULLET.fullmatch(line):
            self._bullet(match.group(2), indented=bool(match.group(1)), number=number)
        elif self.open_text is not None:
            self.open_text.text += " " + stripped
        else:
            paragraph = Paragraph(stripped, number)
            self._container(indented=line[0] == " ", number=number).append(paragraph)
            self.open_text = paragraph

    def _heading(self, stripped: str, number: int) -> None:
        self.open_text = None
        marks = len(stripped) - len(stripped.lstrip("#"))
        rest = stripped[marks:].strip()
        if marks == 1:
            self._article(rest, number)
        elif marks == 2:
            self._section(rest, number)
        else:
            raise TemplateError(
                "only '#' (article) and '##' (section) headings exist; "
                "use '1.' for a provision and 'a.' for a sub-item",
                number,
            )

    def _article(self, rest: str, number: int) -> None:
        match = _ARTICLE.fullmatch(rest)
        if not match:
            raise TemplateError(
                "an article heading looks like '# IV. Title' (roman numeral, period, title)",
                number,
            )
        expected = to_roman(len(self.doc.articles) + 1)
        if match.group(1) != expected:
            raise TemplateError(
                f"article heading out of order: expected '{expected}.', found '{match.group(1)}.'",
                number,
            )
        self.article = Article(expected, expected, match.group(2), [], [], number)
        self.doc.articles.append(self.article)
        self.section = self.provision = self.sub_item = None

    def _section(self, rest: str, number: int) -> None:
        if self.article is None:
            raise TemplateError("section heading before any article heading ('# I. Title')", number)
        match = _SECTION.fullmatch(rest)
        if not match:
            raise TemplateError(
                "a section heading looks like '## B. Title' (capital letter, period, title)",
                number,
            )
        expected = chr(ord("A") + len(self.article.sections))
        if match.group(1) != expected:
            raise TemplateError(
                f"section heading out of order in article {self.article.citation}: "
                f"expected '{expected}.', found '{match.group(1)}.'",
                number,
            )
        citation = f"{self.article.citation}.{expected}"
        self.section = Section(expected, citation, match.group(2), [], [], number)
        self.article.sections.append(self.section)
        self.provision = self.sub_item = None

    def _provision(self, value: int, text: str, number: int) -> None:
        if self.section is None:
            raise TemplateError(
                f"numbered provision '{value}.' must follow a section heading ('## A. Title')",
                number,
            )
        expected = len(self.section.provisions) + 1
        if value != expected:
            raise TemplateError(
                f"provision out of order in section {self.section.citation}: "
                f"expected '{expected}.', found '{value}.'",
                number,
            )
        title, text = _split_title(text, number)
        citation = f"{self.section.citation}.{value}"
        self.provision = Provision(value, citation, title, text, [], [], number)
        self.section.provisions.append(self.provision)
        self.sub_item = None
        self.open_text = self.provision

    def _sub_item(self, letter: str, text: str, number: int) -> None:
        if self.provision is None:
            raise TemplateError(
                f"lettered sub-item '{letter}.' must follow a numbered provision ('1. ...')",
                number,
            )
        expected = chr(ord("a") + len(self.provision.items))
        if letter != expected:
            raise TemplateError(
                f"sub-item out of order in provision {self.provision.citation}: "
                f"expected '{expected}.', found '{letter}.'",
                number,
            )
        title, text = _split_title(text, number)
        citation = f"{self.provision.citation}.{letter}"
        self.sub_item = SubItem(letter, citation, title, text, [], number)
        self.provision.items.append(self.sub_item)
        self.open_text = self.sub_item

    def _bullet(self, text: str, *, indented: bool, number: int) -> None:
        container = self._container(indented=indented, number=number)
        item = BulletItem(text, number)
        # Bullets separated only by blank lines still form one list.
        if container and isinstance(container[-1], BulletList):
            container[-1].items.append(item)
        else:
            container.append(BulletList([item], number))
        self.open_text = item

    def _footnote(self, label: str, text: str, number: int) -> None:
        if any(note.label == label for note in self.doc.footnotes):
            raise TemplateError(f"footnote [^{label}] is defined twice", number)
        if not text:
            raise TemplateError(f"footnote [^{label}] has no text", number)
        note = Footnote(label, text, number)
        self.doc.footnotes.append(note)
        self.open_text = note

    def _container(self, *, indented: bool, number: int) -> list[Block]:
        """Where a new paragraph or bullet list goes, given the headings and items above."""
        if self.sub_item is not None and indented:
            return self.sub_item.blocks
        if self.provision is not None and indented:
            return self.provision.blocks
        if self.provision is not None:
            raise TemplateError(
                f"unindented paragraph after provision {self.provision.citation}: indent it to "
                "continue that provision, or start a new section or article first",
                number,
            )
        if self.section is not None:
            return self.section.blocks
        if self.article is not None:
            return self.article.blocks
        return self.doc.preamble

    def _check_footnotes(self) -> None:
        defined = {note.label for note in self.doc.footnotes}
        for label, number in self.footnote_refs:
            if label not in defined:
                raise TemplateError(
                    f"footnote [^{label}] is cited but never defined ('[^{label}]: text')", number
                )
        cited = {label for label, _ in self.footnote_refs}
        for note in self.doc.footnotes:
            if note.label not in cited:
                raise TemplateError(
                    f"footnote [^{note.label}] is defined but never cited", note.line
                )


def _split_title(text: str, number: int) -> tuple[str | None, str]:
    match = _SHORT_TITLE.fullmatch(text)
    title, rest = (match.group(1).strip(), match.group(2)) if match else (None, text)
    if not rest.strip():
        raise TemplateError("a numbered provision or sub-item needs text after its number", number)
    return title, rest.strip()


def parse_template(body: str) -> TemplateDoc:
    """Parse template markup into articles → sections → provisions → sub-items.

    Raises TemplateError (with the 1-based line number) for malformed input.
    """
    return _Parser().parse(body)
