"""Document storage: one interface (Storage), two backends (local folder, S3).

Keys are content addresses (``sha256/ab/cd/<64 hex>``); objects are written once and
verified against their key on every read. In S3 each stored object is one version of its key,
and the portal records and reads that version (``Stored``). No Flask or SQLAlchemy here.
"""

from portal.storage.base import Storage, Stored
from portal.storage.errors import StorageError, StorageIntegrityError, StorageNotFound
from portal.storage.factory import open_storage
from portal.storage.keys import key_for, sha256_hex
from portal.storage.local import LocalStorage
from portal.storage.s3 import S3Storage

__all__ = [
    "LocalStorage",
    "S3Storage",
    "Storage",
    "Stored",
    "StorageError",
    "StorageIntegrityError",
    "StorageNotFound",
    "key_for",
    "open_storage",
    "sha256_hex",
]
