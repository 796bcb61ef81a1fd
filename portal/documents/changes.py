"""What happened to a signed PDF after each signature, in plain words.

pyHanko's difference analysis says whether the revisions after a signature stayed within
what the certification (DocMDP) allowed; when they did not, its own message names object
numbers and counts revisions from 0. Here the first revision that went too far is found and
described by what a reader would see (page content, pages, comments, form fields), with
revisions counted from 1 as a PDF viewer shows them.

Revisions that only add validation data (a DSS) or document timestamps are normal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

PERMITTED_WORDS = {
    ModificationLevel.NONE: "Later revisions changed nothing in the document.",
    ModificationLevel.LTA_UPDATES: (
        "Later revisions only added validation data or document timestamps (permitted)."
    ),
    ModificationLevel.FORM_FILLING: (
        "Later revisions only added signatures or filled in form fields (permitted)."
    ),
    ModificationLevel.ANNOTATIONS: (
        "Later revisions only added signatures, form entries or comments (permitted)."
    ),
}
ALLOWED_WORDS = {
    MDPPerm.NO_CHANGES: "the certification allowed no changes at all",
    MDPPerm.FILL_FORMS: "the certification allowed only filling in form and signature fields",
    MDPPerm.ANNOTATE: (
        "the certification allowed only filling in form and signature fields and adding comments"
    ),
}
# Trailing bytes that are still part of a well-formed end of file.
_END_OF_LINE = re.compile(rb"[\r\n\t \x00]*\Z")


@dataclass(frozen=True)
class ChangeCheck:
    permitted: bool
    summary: str  # one sentence for the signature's row
    findings: tuple[str, ...] = field(default=())  # each change that was not permitted


def appended_bytes(data: bytes) -> int:
    """How many bytes follow the last %%EOF: they belong to no revision and no signature."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return 0
    tail = data[end + len(b"%%EOF") :]
    return 0 if _END_OF_LINE.fullmatch(tail) else len(tail.strip(b"\r\n\t \x00"))


def check_changes(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    status,
    level: MDPPerm | None,
    *,
    certified: bool,
) -> ChangeCheck:
    """Whether the revisions after `sig` stayed within `level` (the DocMDP in force)."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return ChangeCheck(True, "Nothing was added after this signature.")
    if _permitted(status, level):
        changes = status.modification_level
        return ChangeCheck(True, PERMITTED_WORDS.get(changes, "Later revisions were permitted."))
    try:
        finding = _explain(reader, sig, level, certified)
    except Exception:
        finding = None
    if finding is None:
        finding = "A later revision changed the document in a way that was not permitted."
    return ChangeCheck(False, finding, (finding,))


def _permitted(status, level: MDPPerm | None) -> bool:
    diff = status.diff_result
    if isinstance(diff, SuspiciousModification):
        return False
    docmdp_ok = status.docmdp_ok
    if docmdp_ok is None:  # pyHanko leaves it unset for document timestamps
        docmdp_ok = diff is not None and diff.modification_level != ModificationLevel.OTHER
    if not docmdp_ok:
        return False
    changes = status.modification_level
    # An approval signature carries no DocMDP of its own; the certification's applies.
    return level is None or changes is None or changes.value <= level.value


def _explain(
    reader: PdfFileReader, sig: EmbeddedPdfSignature, level: MDPPerm | None, certified: bool
) -> str | None:
    revision = _first_offending_revision(reader, sig, level)
    if revision is None:
        return None
    what = _describe(reader, revision)
    if certified and level is not None:
        return (
            f"Revision {revision + 1} {what} after the document was certified; "
            f"{ALLOWED_WORDS[level]}."
        )
    return (
        f"Revision {revision + 1} {what} after the signature in revision "
        f"{sig.signed_revision + 1}; a signature allows only later signatures, form entries "
        "and comments."
    )


def _first_offending_revision(
    reader: PdfFileReader, sig: EmbeddedPdfSignature, level: MDPPerm | None
) -> int | None:
    """Like pyHanko's own review (each revision against the signed one), but says which."""
    base = reader.get_historical_resolver(sig.signed_revision)
    for revision in range(sig.signed_revision + 1, reader.xrefs.total_revisions):
        try:
            result = DEFAULT_DIFF_POLICY.apply(
                old=base,
                new=reader.get_historical_resolver(revision),
                field_mdp_spec=sig.fieldmdp,
                doc_mdp=level,
            )
        except SuspiciousModification:
            return revision
        if isinstance(result, DiffResult):
            changes = result.modification_level
            if changes == ModificationLevel.OTHER or (
                level is not None and changes.value > level.value
            ):
                return revision
    return None


@dataclass(frozen=True)
class _Page:
    ref: generic.Reference | None
    contents: frozenset[generic.Reference]
    annotations: frozenset[generic.Reference]


def _describe(reader: PdfFileReader, revision: int) -> str:
    """What `revision` did, compared with the one before it, as a reader would see it."""
    changed = set(reader.xrefs.explicit_refs_in_revision(revision))
    old = _pages(reader.get_historical_resolver(revision - 1))
    new = _pages(reader.get_historical_resolver(revision))
    done: list[str] = []
    if len(new) != len(old):
        verb = "added" if len(new) > len(old) else "removed"
        count = abs(len(new) - len(old))
        done.append(f"{verb} {count} page{'s' if count > 1 else ''}")
    resolver = reader.get_historical_resolver(revision)
    redrawn, commented, fields = [], [], []
    for number, page in enumerate(new, 1):
        before = old[number - 1] if number <= len(old) else None
        if before is None:
            continue
        if page.contents != before.contents or page.contents & changed:
            redrawn.append(number)
        added = [resolver.get_object(ref) for ref in page.annotations - before.annotations]
        if any(annot.get("/Subtype") != "/Widget" for annot in added):
            commented.append(number)
        elif added:
            fields.append(number)
    if redrawn:
        done.append(f"changed the content of {_pages_words(redrawn)}")
    if commented:
        done.append(f"added comments or drawings to {_pages_words(commented)}")
    if fields:
        done.append(f"added form fields to {_pages_words(fields)}")
    if not done:
        done.append("changed the document's structure (objects no form field explains)")
    return " and ".join(done)


def _pages_words(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    return "pages " + ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"


def _pages(resolver: HistoricalResolver) -> list[_Page]:
    pages: list[_Page] = []
    _walk(resolver.root.raw_get("/Pages"), pages, depth=0)
    return pages


def _walk(node_obj, pages: list[_Page], depth: int) -> None:
    if depth > 32:  # a malformed, cyclic page tree
        return
    node = node_obj.get_object() if isinstance(node_obj, generic.IndirectObject) else node_obj
    if node.get("/Type") == "/Pages" or "/Kids" in node:
        kids = node.raw_get("/Kids")
        kids = kids.get_object() if isinstance(kids, generic.IndirectObject) else kids
        for index in range(len(kids)):
            _walk(kids.raw_get(index), pages, depth + 1)
        return
    ref = node_obj.reference if isinstance(node_obj, generic.IndirectObject) else None
    pages.append(_Page(ref, _refs(node, "/Contents"), _refs(node, "/Annots")))


def _refs(node: generic.DictionaryObject, key: str) -> frozenset[generic.Reference]:
    """The objects `key` points to: the array's own reference, and each of its items'."""
    if key not in node:
        return frozenset()
    raw = node.raw_get(key)
    found = set()
    if isinstance(raw, generic.IndirectObject):
        found.add(raw.reference)
        raw = raw.get_object()
    if isinstance(raw, generic.ArrayObject):
        for index in range(len(raw)):
            item = raw.raw_get(index)
            if isinstance(item, generic.IndirectObject):
                found.add(item.reference)
    return frozenset(found)
