"""Each sealing has its own document id (format version 2: a random nonce in the header), and files sealed by
version 1 (no nonce: one file sealed twice by one sealer had one id) still open."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from pathlib import Path

import pytest

from ledger.errors import ValidationError
from ledger.sealing.format import MAGIC, Header, Record, read_preamble
from ledger.sealing.stream import open_file, seal_file
from tests.ledger.sealing.test_sealing_stream import CHUNK, opener, party, to


def test_seal_one_file_twice_by_one_sealer_gives_two_document_ids(tmp_path: Path):
    plain = tmp_path / "loan.pdf"
    plain.write_bytes(os.urandom(CHUNK * 2 + 7))
    sealer, record = party(0)[0], Record("pledge", 3)
    first, _ = seal_file(plain, tmp_path / "a.sealed", [to(1, 0x20)], sealer=sealer, record=record, chunk_size=CHUNK)
    second, _ = seal_file(plain, tmp_path / "b.sealed", [to(1, 0x20)], sealer=sealer, record=record, chunk_size=CHUNK)
    assert first.plaintext_sha256 == second.plaintext_sha256
    assert first.document_id != second.document_id
    for name in ("a", "b"):
        with (tmp_path / f"{name}.sealed").open("rb") as src:
            header, _ = read_preamble(src)
        assert json.loads(header.raw)["version"] == 2 and len(bytes.fromhex(json.loads(header.raw)["nonce"])) == 32
        open_file(tmp_path / f"{name}.sealed", tmp_path / f"{name}.out", party(1)[0], opener(1))
        assert (tmp_path / f"{name}.out").read_bytes() == plain.read_bytes()


DATA = Path(__file__).with_name("data")


def test_open_file_sealed_by_version_1_still_opens_for_each_recipient(tmp_path: Path):
    """``data/v1-loan.txt.sealed`` was written by the version 1 code (to party 1 with X25519, party 2 hybrid)."""
    sealed = DATA / "v1-loan.txt.sealed"
    with sealed.open("rb") as src:
        header, recipients = read_preamble(src)
    assert (header.version, header.nonce, json.loads(header.raw)["version"]) == (1, "", 1)
    assert header.encode() == header.raw and header.document_id == hashlib.sha256(header.raw).digest()
    assert len(recipients) == 2
    for n in (1, 2):
        opened = open_file(sealed, tmp_path / f"out-{n}", party(n)[0], opener(n))
        assert opened.version == 1 and (tmp_path / f"out-{n}").read_bytes() == (DATA / "v1-loan.txt").read_bytes()


def _with_header(tmp_path: Path, change: dict[str, object]) -> Path:
    data = (DATA / "v1-loan.txt.sealed").read_bytes()
    (h,) = struct.unpack(">I", data[8:12])
    header = {**json.loads(data[12:12 + h]), **change}
    raw = json.dumps({k: v for k, v in header.items() if v is not None}, sort_keys=True, separators=(",", ":"))
    path = tmp_path / "changed.sealed"
    path.write_bytes(MAGIC + struct.pack(">I", len(raw)) + raw.encode() + data[12 + h:])
    return path


def test_read_header_of_unknown_version_or_version_2_without_nonce_is_refused(tmp_path: Path):
    for change, said in (({"version": 3}, "not an ipledger sealed file of version 1 or 2 (version 3)"),
                         ({"version": "2"}, "not an ipledger sealed file of version 1 or 2"),
                         ({"version": 2}, "header is malformed"),
                         ({"version": 2, "nonce": "ab" * 16}, "header is malformed")):
        with pytest.raises(ValidationError, match=re.escape(said)), _with_header(tmp_path, change).open("rb") as src:
            read_preamble(src)
    # a version 1 header given a nonce is another header: its id changes, so nothing under the old id opens
    with pytest.raises(ValidationError):
        open_file(_with_header(tmp_path, {"nonce": "00" * 32}), tmp_path / "o", party(1)[0], opener(1))
    assert not (tmp_path / "o").exists()


def test_header_new_has_fresh_nonce_each_time():
    first, second = Header("00" * 32, 0), Header("00" * 32, 0)
    assert first.version == 2 and first.nonce != second.nonce and first.document_id != second.document_id
