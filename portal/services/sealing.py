"""Secrets the portal must read back (a TOTP secret, a webhook signing secret), kept
encrypted with Fernet under a key derived from SECRET_KEY with HKDF, one key per purpose.

A copy of the database alone does not give them; rotating SECRET_KEY makes them unreadable
(each purpose says what then happens).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def fernet(purpose: bytes) -> Fernet:
    """The Fernet key for `purpose` (the HKDF info, e.g. b"portal two-factor secret")."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        str(current_app.config["SECRET_KEY"]).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))
