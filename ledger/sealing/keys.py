"""Encryption keys of accounts, derived from the account's own key, and HPKE wrapping of file keys.

An account's encryption keys are derived deterministically from its secp256k1 private key with
HKDF-SHA256 (RFC 5869), one set per key version, so whatever holds the account key (the CLI's
keystore, the browser's keystore at /keys) holds its encryption keys too, with no second secret to
back up; rotating publishes the next version's keys (docs/sealed-format.md, "Keys of accounts")::

    x25519 secret       = HKDF(ikm=account key, salt="ipledger sealing keys v1", info="x25519"   || u32 version, 32)
    ML-KEM-768 seed     = HKDF(..., info="mlkem768" || u32 version, 64)     (FIPS 203 seed d || z)
    hybrid X25519 part  = HKDF(..., info="xwing-x25519" || u32 version, 32)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import ValidationError, VerificationError
from ledger.sealing.format import KEM_MLKEM768_X25519, KEM_X25519, WRAP_INFO

KEY_SALT = b"ipledger sealing keys v1"
MLKEM768_PUBLIC_SIZE = 1184
HYBRID_PUBLIC_SIZE = MLKEM768_PUBLIC_SIZE + 32

_KEMS = {KEM_X25519: hpke.KEM.X25519, KEM_MLKEM768_X25519: hpke.KEM.MLKEM768_X25519}


def _suite(kem: int) -> hpke.Suite:
    return hpke.Suite(_KEMS[kem], hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def _derive(account_key: bytes, label: bytes, version: int, length: int) -> bytes:
    info = label + version.to_bytes(4, "big")
    return HKDF(hashes.SHA256(), length, KEY_SALT, info).derive(account_key)


@dataclass(frozen=True)
class PublicKeys:
    """What an account publishes for one key version: its X25519 key and, optionally, its hybrid key."""

    version: int
    x25519: bytes
    hybrid: bytes = b""
    revoked: bool = False

    def of(self, kem: int) -> bytes:
        if kem == KEM_X25519:
            return self.x25519
        if not self.hybrid:
            raise ValidationError(f"key version {self.version} has no ML-KEM-768+X25519 key published")
        return self.hybrid


@dataclass(frozen=True)
class AccountKeys:
    """The private encryption keys of one account for one key version."""

    version: int
    x25519: X25519PrivateKey
    mlkem768: mlkem.MLKEM768PrivateKey
    hybrid_x25519: X25519PrivateKey

    @classmethod
    def derive(cls, account_key: bytes, version: int = 1) -> AccountKeys:
        if len(account_key) != 32:
            raise ValidationError("an account key has 32 bytes")
        if version < 1:
            raise ValidationError("key versions start at 1")
        return cls(
            version,
            X25519PrivateKey.from_private_bytes(_derive(account_key, b"x25519", version, 32)),
            mlkem.MLKEM768PrivateKey.from_seed_bytes(_derive(account_key, b"mlkem768", version, 64)),
            X25519PrivateKey.from_private_bytes(_derive(account_key, b"xwing-x25519", version, 32)),
        )

    def public(self) -> PublicKeys:
        hybrid = self.mlkem768.public_key().public_bytes_raw() + self.hybrid_x25519.public_key().public_bytes_raw()
        return PublicKeys(self.version, self.x25519.public_key().public_bytes_raw(), hybrid)

    def private_of(self, kem: int) -> X25519PrivateKey | hpke.MLKEM768X25519PrivateKey:
        if kem == KEM_X25519:
            return self.x25519
        return hpke.MLKEM768X25519PrivateKey(self.mlkem768, self.hybrid_x25519)


def _public_of(kem: int, raw: bytes) -> X25519PublicKey | hpke.MLKEM768X25519PublicKey:
    try:
        if kem == KEM_X25519:
            return X25519PublicKey.from_public_bytes(raw)
        if len(raw) != HYBRID_PUBLIC_SIZE:
            raise ValueError
        return hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(raw[:MLKEM768_PUBLIC_SIZE]),
            X25519PublicKey.from_public_bytes(raw[MLKEM768_PUBLIC_SIZE:]),
        )
    except ValueError:
        raise ValidationError("a published encryption key is malformed") from None


def wrap_key(file_key: bytes, kem: int, public_key: bytes, document_id: bytes) -> tuple[bytes, bytes]:
    """HPKE base-mode single-shot seal of ``file_key``: (enc, ciphertext), info = WRAP_INFO || document id."""
    sealed = _suite(kem).encrypt(file_key, _public_of(kem, public_key), info=WRAP_INFO + document_id)
    n = _KEMS[kem].enc_length()
    return sealed[:n], sealed[n:]


def unwrap_key(enc: bytes, wrapped: bytes, kem: int, keys: AccountKeys, document_id: bytes) -> bytes:
    """The file key, or :class:`VerificationError` if this entry was not wrapped to ``keys``."""
    try:
        key = _suite(kem).decrypt(enc + wrapped, keys.private_of(kem), info=WRAP_INFO + document_id)
    except (InvalidTag, ValueError):
        raise VerificationError("this recipient entry does not open with your key") from None
    if len(key) != 32:
        raise VerificationError("the wrapped file key is not 32 bytes")
    return key
