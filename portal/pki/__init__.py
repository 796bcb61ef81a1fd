"""The portal's PKI: root and issuing CA, time-stamping authority, seal, people's identities.

A plain library (no Flask, no database): callers pass the directory and passphrase.
"""

from portal.pki.authority import IssuedIdentity, Pki
from portal.pki.creation import init_pki
from portal.pki.errors import PkiError

__all__ = ["IssuedIdentity", "Pki", "PkiError", "init_pki"]
