"""PDF/A-3b for every portal PDF: an sRGB OutputIntent, XMP metadata that matches the Info
dictionary, and (for the certificate of completion) associated files.

reportlab writes neither, so `finish` adds them to the catalog just before the canvas is
saved; the fonts are embedded TrueType faces (`fonts`). The signatures come later as
incremental updates: pyHanko rewrites the XMP's ModifyDate and Producer together with the
Info dictionary's, so the two keep agreeing (see `_ArchivalInfo` for the Producer).

The sRGB profile is made by littleCMS through Pillow, with its creation date fixed and its
profile ID recomputed, so the same document always has the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape as xml_escape

from PIL import ImageCms
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDate,
    PDFDictionary,
    PDFInfo,
    PDFName,
    PDFStream,
    PDFString,
)
from reportlab.pdfgen.canvas import Canvas

OUTPUT_CONDITION = "sRGB IEC61966-2.1"
_REPORTLAB_STREAM_FORMAT = PDFStream.format
_ICC_DATE = bytes.fromhex("07d0 0001 0001 0000 0000 0000")  # 2000-01-01 00:00:00


@dataclass(frozen=True)
class Attachment:
    """A file carried inside the PDF as a PDF/A-3 associated file."""

    file_name: str
    data: bytes
    description: str
    modified: datetime  # naive means UTC
    relationship: str = "Source"  # PDF/A-3 AFRelationship: Source, Data, Alternative…
    mime_type: str = "application/pdf"


@functools.cache
def srgb_profile() -> bytes:
    """An ICC v4 sRGB profile with a fixed date, so rendering stays deterministic."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = _ICC_DATE
    # The profile ID is the MD5 of the profile with flags, intent and the ID itself zeroed.
    hashed = bytearray(profile)
    hashed[44:48] = hashed[64:68] = bytes(4)
    hashed[84:100] = bytes(16)
    profile[84:100] = hashlib.md5(hashed, usedforsecurity=False).digest()
    return bytes(profile)


def _mime_name(mime_type: str) -> str:
    """A MIME type as a PDF name: "/application#2Fpdf" (reportlab's PDFName leaves "/" as is,
    which would end the name there)."""
    return PDFName(mime_type).replace("/", "#2F").replace("#2F", "/", 1)


def _plain(value: object) -> str:
    """The text of a reportlab string object (the catalog holds Lang as a PDFString)."""
    if value is None:
        return ""
    return str(getattr(value, "s", value))


def _pdf_date(moment: datetime) -> str:
    # The database hands back naive datetimes; the portal stores every instant in UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"D:{moment:%Y%m%d%H%M%S}+00'00'"


def _xmp(info: dict[str, str], created: datetime, lang: str) -> bytes:
    e = xml_escape
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    lang = e(lang or "x-default")
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(info["title"])}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{e(info["author"])}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(info["subject"])}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{e(info["creator"])}</xmp:CreatorTool>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Keywords>{e(info["keywords"])}</pdf:Keywords>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""  # noqa: E501 (one XMP property a line reads better)
    return xml.encode("utf-8")


def _attachment(canvas: Canvas, attachment: Attachment) -> object:
    """An embedded file stream and its file specification; returns the spec's reference."""
    doc = canvas._doc
    params = PDFDictionary(
        {"Size": len(attachment.data), "ModDate": PDFString(_pdf_date(attachment.modified))}
    )
    stream = PDFStream(
        PDFDictionary(
            {
                "Type": PDFName("EmbeddedFile"),
                "Subtype": _mime_name(attachment.mime_type),
                "Params": params,
            }
        ),
        content=attachment.data,
    )
    stream_ref = doc.Reference(stream)
    spec = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(attachment.file_name),
            "UF": PDFString(attachment.file_name),
            "Desc": PDFString(attachment.description),
            "AFRelationship": PDFName(attachment.relationship),
            "EF": PDFDictionary({"F": stream_ref, "UF": stream_ref}),
        }
    )
    return doc.Reference(spec)


class _ArchivalInfo(PDFInfo):
    """reportlab's Info dictionary without /Producer.

    PDF/A wants Info and XMP to agree. When pyHanko signs, it sets the XMP's pdf:Producer to
    its own name but appends that name to an existing Info /Producer; with none to append
    to, both read "pyHanko <version>" and keep agreeing."""

    def format(self, document: object) -> bytes:
        created = PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter)
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Subject": PDFString(self.subject),
            "Creator": PDFString(self.creator),
            "Keywords": PDFString(self.keywords),
            "CreationDate": created,
            "ModDate": created,
            "Trapped": PDFName(self.trapped),
        }
        return PDFDictionary(entries).format(document)


def _stream_format(self: PDFStream, document: object) -> bytes:
    """reportlab's stream, with the end-of-line before "endstream" that PDF/A requires
    (ISO 19005-2, 6.1.7.1); /Length still counts the data alone, as it must."""
    out = _REPORTLAB_STREAM_FORMAT(self, document)
    if out.endswith(b"endstream\n") and not out.endswith(b"\nendstream\n"):
        out = out[: -len(b"endstream\n")] + b"\nendstream\n"
    return out


def install() -> None:
    """Makes every PDF reportlab writes in this process keep PDF/A's stream syntax."""
    PDFStream.format = _stream_format


def finish(canvas: Canvas, attachments: Sequence[Attachment] = ()) -> None:
    """Adds the OutputIntent, the XMP metadata and any associated files to the catalog.

    Call it once, just before `canvas.save()`, after the title, author and subject are set.
    """
    doc = canvas._doc
    # PDF/A-3 is built on PDF 1.7 (associated files, OutputIntents and XMP are 1.4 or later).
    doc._pdfVersion = max(doc._pdfVersion, (1, 7))
    catalog = doc.Catalog
    info = doc.info
    created = datetime.fromtimestamp(doc._timeStamp.t, UTC)
    values = {
        "title": info.title or "",
        "author": info.author or "",
        "subject": info.subject or "",
        "creator": info.creator or "",
        "keywords": info.keywords or "",
    }
    info.__class__ = _ArchivalInfo
    icc = PDFStream(PDFDictionary({"N": 3}), content=srgb_profile())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),  # the subtype PDF/A uses in every part
            "OutputConditionIdentifier": PDFString(OUTPUT_CONDITION),
            "Info": PDFString(OUTPUT_CONDITION),
            "DestOutputProfile": doc.Reference(icc),
        }
    )
    # Uncompressed, so archives and indexers can read it without a PDF library.
    metadata = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        content=_xmp(values, created, _plain(getattr(catalog, "Lang", None))),
        filters=[],
    )
    catalog.Metadata = doc.Reference(metadata)
    extra = ["OutputIntents"]
    catalog.OutputIntents = PDFArray([intent])
    if attachments:
        specs = [_attachment(canvas, a) for a in attachments]
        catalog.AF = PDFArray(specs)
        names = PDFArray([])
        for attachment, spec in zip(attachments, specs, strict=True):
            names.sequence += [PDFString(attachment.file_name), spec]
        # reportlab sets no name tree of its own (the portal's PDFs have no outlines).
        catalog.Names = PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": names})})
        extra.append("AF")
    # reportlab's catalog writes only the keys it knows; these two are PDF 1.4+/PDF 2.0 ones.
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, *extra]
