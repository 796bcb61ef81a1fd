"""The agreement's evidence as a person keeps it: stamps that print who signed and when (in
the lead agency's time zone), and a certificate of completion that carries the signed
agreement inside it."""

from __future__ import annotations

import hashlib
import subprocess
import unicodedata
from datetime import UTC, datetime
from io import BytesIO

import time_machine
from pyhanko.pdf_utils.reader import PdfFileReader

from portal.models import Agreement
from portal.services import agreement_signatures, documents
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed


def _countersigned(cast) -> Agreement:
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=UTC), tick=False):
        agreement = agency_signed(cast)
    # 07:30 UTC on November 27 is 11:30 pm on November 26 in Sacramento.
    with time_machine.travel(datetime(2026, 11, 27, 7, 30, tzinfo=UTC), tick=False):
        return agreement_signatures.countersign(
            cast.signatory, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )


def _last_page_text(pdf: bytes) -> str:
    count = int(
        next(
            line.split()[-1]
            for line in subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
            .stdout.decode()
            .splitlines()
            if line.startswith("Pages:")
        )
    )
    out = subprocess.run(
        ["pdftotext", "-f", str(count), "-l", str(count), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return " ".join(unicodedata.normalize("NFKC", out).split())


def test_both_stamps_print_signer_title_agency_and_local_time(app, cast):
    agreement = _countersigned(cast)
    version = next(v for v in agreement.document.versions if "Countersigned" in v.label)
    text = _last_page_text(documents.read_bytes(version))
    assert text.count("Digitally signed") == 2
    assert "Authorized signatory" not in text
    for printed in (
        cast.ed.name,
        cast.ed.title,
        agreement.agency.legal_name,
        "November 24, 2026, 10:00 am PST",  # the agency's signature
        cast.signatory.name,
        cast.signatory.title,
        "November 26, 2026, 11:30 pm PST",  # the lead's, on the evening before in UTC terms
    ):
        assert printed in text, printed


def test_the_certificate_carries_the_signed_agreement(app, cast):
    agreement = _countersigned(cast)
    certificate = documents.read_bytes(agreement.certificate.current)
    root = PdfFileReader(BytesIO(certificate)).root
    [spec] = [ref.get_object() for ref in root["/AF"]]
    assert spec["/AFRelationship"] == "/Source"
    assert spec["/F"] == f"{agreement.reference}-signed-agreement.pdf"
    embedded = spec["/EF"]["/F"].data
    # Byte for byte one of the agreement's stored versions, the one both parties signed.
    digest = hashlib.sha256(embedded).hexdigest()
    [version] = [v for v in agreement.document.versions if v.sha256 == digest]
    assert "Countersigned" in version.label or version.seq >= 3
    assert cast.signatory.name in _last_page_text(embedded)
    # The certificate says what it carries, with the digest to check it by.
    assert f"{agreement.reference}-signed-agreement.pdf" in _last_page_text(certificate)
    assert digest in _last_page_text(certificate)
