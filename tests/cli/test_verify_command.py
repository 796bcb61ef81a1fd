"""`flask verify FILE`: the verdict first, then each signature; exit 0 only for a valid file on
record, 3 for a valid file the portal never stored, 1 for anything else; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from portal import runtime
from portal.documents.signing import DocumentSigner
from portal.services import documents
from tests.documents.conftest import AGENCY_FIELD, three_page_pdf
from tests.services.helpers import sent_agreement
from tests.support.tampering import Forgery, appended, byte_flipped, page_drawn_on

ROOT = Path(__file__).resolve().parents[2]


def verify(app, tmp_path: Path, data: bytes):
    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["verify", str(path)])


def test_a_stored_pdf_is_valid_and_on_record(app, cast, tmp_path):
    agreement = sent_agreement(cast)
    result = verify(app, tmp_path, documents.read_bytes(agreement.document.current))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Verdict: Valid and on record"
    assert any(line.startswith(f"On record: {agreement.reference}, version") for line in lines)
    assert "Certificate SHA-256: " in result.output
    assert "Issuer certificate SHA-256: " in result.output


def test_a_valid_pdf_not_stored_exits_3(app, cast, tmp_path):
    unstored = DocumentSigner(runtime.pki()).certify(
        three_page_pdf(), fields=[], reason="Issued elsewhere"
    )
    result = verify(app, tmp_path, unstored)
    assert result.exit_code == 3, result.output
    assert result.output.startswith("Verdict: Valid signatures, but this file is not on record")
    assert "On record: no" in result.output


def test_every_kind_of_wrong_exits_1_with_its_verdict(app, cast, tmp_path):
    stored = documents.read_bytes(sent_agreement(cast).document.current)
    cases = {
        "Verdict: Not valid: signed under an unknown certificate authority": Forgery().sign(
            three_page_pdf()
        ),
        "Verdict: Broken: the signed bytes were changed": byte_flipped(stored),
        "Verdict: Not valid: the document was changed after signing": page_drawn_on(stored),
        "Verdict: Not valid: unsigned bytes were added after the signed document": appended(stored),
        "Verdict: Not verifiable: this file carries no readable signatures": b"not a pdf",
    }
    for first_line, data in cases.items():
        result = verify(app, tmp_path, data)
        assert result.exit_code == 1, result.output
        assert result.output.splitlines()[0] == first_line
        assert "Reference(" not in result.output and "Traceback" not in result.output


def test_a_real_process_prints_no_traceback(pki, tmp_path):
    """pyHanko logs its findings with tracebacks; the command keeps stderr clean."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STORAGE_URL")}
    env["PORTAL_INSTANCE"] = str(tmp_path / "instance")
    certified = DocumentSigner(pki).certify(
        three_page_pdf(), fields=[AGENCY_FIELD], reason="Issued by another portal"
    )
    files = {
        "forged.pdf": Forgery().sign(three_page_pdf()),
        "flipped.pdf": byte_flipped(certified),
        "drawn-on.pdf": page_drawn_on(certified),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    def flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert flask("init").returncode == 0
    first_lines = {}
    for name in files:
        done = flask("verify", str(tmp_path / name))
        assert done.returncode == 1, done.stdout
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr
        first_lines[name] = done.stdout.splitlines()[0]
    # This instance's CA is not the suite's; a change that was not permitted still comes
    # first, being more serious than who signed.
    assert first_lines == {
        "forged.pdf": "Verdict: Not valid: signed under an unknown certificate authority",
        "flipped.pdf": "Verdict: Broken: the signed bytes were changed",
        "drawn-on.pdf": "Verdict: Not valid: the document was changed after signing",
    }
