"""A sealed file opened by a second HPKE implementation (pyhpke) following only docs/sealed-format.md.

Nothing of ``ledger.sealing`` reads the file here: the layout is parsed with ``struct`` and ``json``,
the file key unwrapped with pyhpke, the chunks decrypted with plain AES-256-GCM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

from ledger.sealing.format import KEM_X25519
from ledger.sealing.keys import AccountKeys
from ledger.sealing.stream import To, seal_file

ADDRESS = "0x" + "ab" * 20


def open_per_the_document(data: bytes, x25519_secret: bytes, address: str) -> bytes:
    assert data[:8] == b"IPLSEAL1"
    (h,) = struct.unpack(">I", data[8:12])
    header_bytes = data[12:12 + h]
    header = json.loads(header_bytes)
    (r,) = struct.unpack(">I", data[12 + h:16 + h])
    recipients = json.loads(data[16 + h:16 + h + r])
    payload = data[16 + h + r:]
    document_id = hashlib.sha256(header_bytes).digest()
    entry = next(e for e in recipients if e["address"].lower() == address.lower())
    assert entry["kem"] == 0x0020
    suite = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
    skr = suite.kem.deserialize_private_key(x25519_secret)
    recipient = suite.create_recipient_context(base64.b64decode(entry["enc"]), skr,
                                               info=b"ipledger-sealed v1 file key" + document_id)
    file_key = recipient.open(base64.b64decode(entry["wrapped_key"]), aad=b"")
    step = header["chunk_size"] + 16
    chunks = [payload[i:i + step] for i in range(0, len(payload), step)]
    aead = AESGCM(file_key)
    plain = b"".join(
        aead.decrypt(i.to_bytes(11, "big") + (b"\x01" if i == len(chunks) - 1 else b"\x00"), c, document_id)
        for i, c in enumerate(chunks))
    assert hashlib.sha256(plain).hexdigest() == header["plaintext_sha256"]
    assert len(plain) == header["plaintext_size"]
    return plain


def test_sealed_file_opens_with_pyhpke_following_only_the_format_document(tmp_path: Path):
    account_key = hashlib.sha256(b"interop").digest()
    keys = AccountKeys.derive(account_key, 1)
    plain = tmp_path / "claims.txt"
    plain.write_bytes(os.urandom(200_000))
    seal_file(plain, tmp_path / "claims.sealed", [To(ADDRESS, keys.public(), KEM_X25519)])
    # the X25519 secret as the document derives it from the account key
    secret = HKDF(SHA256(), 32, b"ipledger sealing keys v1", b"x25519" + (1).to_bytes(4, "big")).derive(account_key)
    opened = open_per_the_document((tmp_path / "claims.sealed").read_bytes(), secret, ADDRESS)
    assert opened == plain.read_bytes()
