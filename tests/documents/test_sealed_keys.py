"""People's keys sealed under their password (portal/pki/keys.py): argon2id + AES-256-GCM."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.pki import PkiError, keys

PASSWORD = "correct horse battery staple"
CHEAP = keys.KdfParams(memory_kib=64, time_cost=1, parallelism=1)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def cert_der(director) -> bytes:
    return x509.load_pem_x509_certificate(director.identity.cert_pem).public_bytes(
        serialization.Encoding.DER
    )


def _same(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


def test_seal_then_unseal_gives_back_the_key(key, cert_der):
    sealed = keys.seal(key, PASSWORD, cert_der)
    assert _same(keys.unseal(sealed, PASSWORD, cert_der), key)
    # The stored blob holds no readable key: no PKCS#8, and not the key's DER.
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    label, _, raw = asn1_pem.unarmor(sealed.blob)
    assert label == keys.PEM_LABEL
    assert der[40:80] not in raw
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(sealed.blob, password=None)


def test_the_parameters_and_a_fresh_salt_are_stored_with_the_key(key, cert_der):
    first = keys.seal(key, PASSWORD, cert_der)
    second = keys.seal(key, PASSWORD, cert_der)
    version, params, salt = first.kdf.split("$")[1:]
    assert first.kdf.startswith("argon2id$")
    assert version == "v=19"
    # OWASP's minimum for argon2id by default: 19 MiB, 2 passes, 1 lane.
    assert params == "m=19456,t=2,p=1"
    assert len(base64.b64decode(salt)) == keys.SALT_BYTES
    assert first.kdf != second.kdf and first.blob != second.blob
    assert keys.parse_kdf(first.kdf) == (keys.DEFAULT, base64.b64decode(salt))
    cheap = keys.seal(key, PASSWORD, cert_der, CHEAP)
    assert "$m=64,t=1,p=1$" in cheap.kdf
    assert _same(keys.unseal(cheap, PASSWORD, cert_der), key)


@pytest.mark.parametrize(
    "wrong", ["", "correct horse battery stapl", "Correct horse battery staple"]
)
def test_a_wrong_password_opens_nothing(key, cert_der, wrong):
    sealed = keys.seal(key, PASSWORD, cert_der, CHEAP)
    with pytest.raises(PkiError, match="password does not open this signing key"):
        keys.unseal(sealed, wrong, cert_der)


def test_a_key_moved_beside_another_certificate_does_not_open(key, cert_der, ceo):
    sealed = keys.seal(key, PASSWORD, cert_der, CHEAP)
    other = x509.load_pem_x509_certificate(ceo.identity.cert_pem).public_bytes(
        serialization.Encoding.DER
    )
    with pytest.raises(PkiError, match="password does not open"):
        keys.unseal(sealed, PASSWORD, other)


def test_a_tampered_blob_or_kdf_is_refused(key, cert_der):
    sealed = keys.seal(key, PASSWORD, cert_der, CHEAP)
    label, _, raw = asn1_pem.unarmor(sealed.blob)
    for at in (0, keys.NONCE_BYTES + 5, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[at] ^= 0x01
        bad = keys.SealedKey(asn1_pem.armor(label, bytes(flipped)), sealed.kdf)
        with pytest.raises(PkiError, match="or the key was altered"):
            keys.unseal(bad, PASSWORD, cert_der)
    # Another salt or cost derives another key.
    version, params, salt = sealed.kdf.split("$")[1:]
    other_salt = base64.b64encode(bytes(16)).decode()
    for kdf in (
        f"argon2id${version}${params}${other_salt}",
        f"argon2id${version}$m=128,t=1,p=1${salt}",
    ):
        with pytest.raises(PkiError, match="password does not open"):
            keys.unseal(keys.SealedKey(sealed.blob, kdf), PASSWORD, cert_der)
    for kdf in ("", "argon2i$v=19$m=64,t=1,p=1$" + salt, f"argon2id$v=16${params}${salt}"):
        with pytest.raises(PkiError):
            keys.unseal(keys.SealedKey(sealed.blob, kdf), PASSWORD, cert_der)
    with pytest.raises(PkiError, match="damaged"):
        keys.unseal(keys.SealedKey(b"garbage", sealed.kdf), PASSWORD, cert_der)
    # A hostile cost is refused before any work is done.
    with pytest.raises(PkiError, match="memory"):
        keys.unseal(keys.SealedKey(sealed.blob, f"argon2id$v=19$m=99999999,t=1,p=1${salt}"),
                    PASSWORD, cert_der)  # fmt: skip


def test_reseal_keeps_the_key_under_a_new_password(key, cert_der):
    sealed = keys.seal(key, PASSWORD, cert_der, CHEAP)
    moved = keys.reseal(sealed, PASSWORD, "a new and longer password", cert_der, CHEAP)
    assert _same(keys.unseal(moved, "a new and longer password", cert_der), key)
    with pytest.raises(PkiError):
        keys.unseal(moved, PASSWORD, cert_der)
    with pytest.raises(PkiError):
        keys.reseal(sealed, "not the password", "anything else", cert_der, CHEAP)


def test_the_setting_is_read_and_checked():
    assert keys.KdfParams.parse("m=19456,t=2,p=1") == keys.DEFAULT
    assert keys.KdfParams.parse(" m=65536, t=3, p=2 ") == keys.KdfParams(65536, 3, 2)
    for bad in ("", "t=2", "m=4,t=1,p=1", "m=19456,t=0,p=1", "m=19456,t=2,p=99"):
        with pytest.raises(PkiError):
            keys.KdfParams.parse(bad)


def test_an_empty_password_seals_nothing(key, cert_der):
    with pytest.raises(PkiError, match="empty password"):
        keys.seal(key, "", cert_der, CHEAP)
