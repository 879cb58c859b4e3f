"""Proofs of existence and authorship that hold without this software.

Everything here is pure computation, so a certificate can be checked offline
and the chain is only asked the one question it alone can answer (was this key
anchored, in which block). See DESIGN.md, "Timestamps":

* ``digest``     SHA-256 of the file's bytes; the file never leaves the machine.
* ``leaf``       ``keccak256(abi.encode(bytes32 digest, address author, bytes32 salt))``,
  the commitment. The salt hides the digest and binds the author, so a
  front-runner copying a pending leaf cannot open it to their own address.
* ``root``       for a batch, the root of an OpenZeppelin ``StandardMerkleTree``
  over ``[[leaf] for leaf in leaves]`` with leaf encoding ``['bytes32']``, so
  OZ's ``MerkleProof.verify`` and the npm ``@openzeppelin/merkle-tree`` accept
  our proofs. The tree's leaf *hash* is therefore
  ``keccak256(bytes.concat(keccak256(abi.encode(leaf))))``, i.e.
  ``keccak256(keccak256(leaf))`` (double hashed against second-preimage attacks).

Authorship: the commitment names an author, and the chain records who sent the stamp (the
certificate's ``stamper``). When the author sent it (``stamper == author``: a direct, relayed or
batch stamp) the transaction's signature proves the author. When someone else sent it (a stamp
service anchoring many authors' leaves in its rounds) anyone could have named anyone as author, so
the certificate carries :class:`Authorship`: the author's EIP-712 signature of
``Authorship(bytes32 root)`` (domain :func:`authorship_domain`) over the root of the
``StandardMerkleTree`` of the leaves the author committed together, and this leaf's proof to it.
A certificate with neither proves that the file existed, not who made it: verification says so.

One rule for every stamp: the on-chain key (:func:`anchor_key`) is always the
``StandardMerkleTree`` root, and the proof leads from ``leaf_hash(leaf)`` to it.
A single stamp is the tree of one value: its root is ``leaf_hash(leaf)`` =
``keccak256(leaf)`` and its proof is empty (the contract's ``stamp(leaf)``
records it under that root), so OZ's ``StandardMerkleTree.verify`` accepts every
certificate. Certificates written before this rule (a single stamp recorded under
the raw leaf: ``root == leaf``, empty proof) are *legacy* and keep verifying.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeGuard

import pydantic
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from eth_utils.address import (
    is_checksum_address,
    is_checksum_formatted_address,
    is_hex_address,
    to_checksum_address,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ledger import messages
from ledger.errors import ValidationError, VerificationError
from ledger.files import share

__all__ = [
    "AUTHORSHIP_TYPES",
    "CERTIFICATE_SUFFIX",
    "Authorship",
    "Certificate",
    "CertificateIndex",
    "MerkleTree",
    "anchor_key",
    "authorship_domain",
    "authorship_signer",
    "certificate_index",
    "certificate_number",
    "certificate_path",
    "certificate_paths",
    "certificate_pdf_path",
    "check_authorship",
    "check_certificate_offline",
    "commitment",
    "file_digest",
    "is_certificate_name",
    "leaf_hash",
    "new_salt",
    "revision_salt",
    "sign_authorship",
    "verify_proof",
    "write_certificate",
]

CERTIFICATE_SUFFIX = ".ipledger.json"
_NUMBERED_CERTIFICATE = re.compile(r"\.ipledger\.([1-9][0-9]{0,8})\.json\Z")


# --------------------------------------------------------------------------- digests


def file_digest(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> bytes:
    """SHA-256 of a file, streamed through one reusable buffer.

    Files to timestamp can be many gigabytes (videos, datasets), so the file is
    never loaded whole. Unusable paths raise ValidationError naming the path, so
    the CLI can report them as bad input instead of a traceback.
    """
    if chunk_size <= 0:
        raise ValidationError(f"chunk_size must be positive, got {chunk_size}")
    p = Path(path)
    if p.is_dir():
        raise ValidationError(f"{p} is a directory, not a file", path=str(p))
    hasher = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    try:
        with p.open("rb", buffering=0) as f:
            while n := f.readinto(buffer):
                hasher.update(view[:n])
    except FileNotFoundError:
        raise ValidationError(f"no such file: {p}", path=str(p)) from None
    except IsADirectoryError:
        raise ValidationError(f"{p} is a directory, not a file", path=str(p)) from None
    except PermissionError:
        raise ValidationError(f"cannot read {p}: permission denied", path=str(p)) from None
    except OSError as exc:
        raise ValidationError(f"cannot read {p}: {exc.strerror or exc}", path=str(p)) from None
    return hasher.digest()


def _require_bytes32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        got = (
            f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
        )
        raise ValidationError(f"{what} must be 32 bytes, got {got}")
    return bytes(value)


def _is_address(value: object) -> TypeGuard[str]:
    """A 0x-prefixed 20-byte hex address; mixed case must be a correct EIP-55 checksum.

    ``eth_utils.is_address`` ignores the checksum, which would let a typo in an
    author's address silently bind the commitment to someone else.
    """
    if not isinstance(value, str) or not value.startswith("0x") or not is_hex_address(value):
        return False
    return not is_checksum_formatted_address(value) or is_checksum_address(value)


@functools.lru_cache(maxsize=1024)
def _checksummed(value: str) -> str | None:
    """The checksum form of a valid address, else None (cached: a batch repeats one author)."""
    return str(to_checksum_address(value)) if _is_address(value) else None


def _require_address(value: object, what: str = "author") -> str:
    """A checksummed address; all-lowercase is accepted, a wrong checksum is not."""
    checksummed = _checksummed(value) if isinstance(value, str) else None
    if checksummed is None:
        raise ValidationError(f"{what} is not a valid address (or has a bad checksum): {value!r}")
    return checksummed


def new_salt() -> bytes:
    """32 random bytes from the OS CSPRNG; a guessable salt would reveal the digest."""
    return secrets.token_bytes(32)


def revision_salt(nonce: bytes, prev_root: bytes, prev_leaf: bytes) -> bytes:
    """The salt of a revision: ``keccak256(abi.encode(bytes32 nonce, bytes32 prevRoot, bytes32 prevLeaf))``.

    As random as ``nonce`` (so it hides the digest as any salt does), and it binds the stamp revised.
    """
    values = [_require_bytes32(nonce, "nonce"), _require_bytes32(prev_root, "the revised root"),
              _require_bytes32(prev_leaf, "the revised leaf")]
    return bytes(keccak(abi_encode(["bytes32", "bytes32", "bytes32"], values)))


def commitment(digest: bytes, author: str, salt: bytes) -> bytes:
    """The leaf ``keccak256(abi.encode(bytes32 digest, address author, bytes32 salt))``.

    Solidity can recompute it with the same expression, which is why it is
    ABI-encoded rather than packed or hashed with SHA-256.
    """
    d = _require_bytes32(digest, "digest")
    s = _require_bytes32(salt, "salt")
    a = _require_address(author)
    return bytes(keccak(abi_encode(["bytes32", "address", "bytes32"], [d, a, s])))


# --------------------------------------------------------------------------- Merkle tree


def leaf_hash(leaf: bytes) -> bytes:
    """The tree node of a commitment: ``keccak256(bytes.concat(commitment))``.

    The commitment is already ``keccak256(abi.encode(digest, author, salt))``, so the
    node is OZ's double-hashed ``StandardMerkleTree`` leaf of the values
    ``(digest, author, salt)`` with types ``['bytes32', 'address', 'bytes32']``: a tree
    built here equals ``StandardMerkleTree.of(triples, types)`` and verifies with
    ``MerkleProof.verify(proof, root, keccak256(bytes.concat(commitment)))``.
    """
    return bytes(keccak(_require_bytes32(leaf, "commitment")))


def _node_hash(a: bytes, b: bytes) -> bytes:
    """OZ's commutative pair hash: keccak256 of the two nodes in ascending order."""
    return bytes(keccak(a + b if a <= b else b + a))


class MerkleTree:
    """An OpenZeppelin ``StandardMerkleTree`` over single-``bytes32`` values.

    Same layout as ``@openzeppelin/merkle-tree`` 1.0.8 (``makeMerkleTree``):
    leaf hashes sorted ascending are placed at the *end* of a flat array of
    ``2n - 1`` nodes in reverse order, node ``i`` has children ``2i+1`` and
    ``2i+2``, and the root is node 0. Matching the layout, not just the root,
    makes our proofs byte-identical to the npm tool's. Building is O(n log n)
    (the sort) and each proof O(log n).
    """

    def __init__(self, commitments: Sequence[bytes]) -> None:
        if len(commitments) == 0:
            raise ValidationError("a Merkle tree needs at least one commitment")
        hashes = [leaf_hash(c) for c in commitments]
        if len(set(hashes)) != len(hashes):
            seen: set[bytes] = set()
            for c in commitments:
                if bytes(c) in seen:
                    raise ValidationError(f"duplicate commitment in batch: 0x{bytes(c).hex()}")
                seen.add(bytes(c))
        n = len(hashes)
        size = 2 * n - 1
        tree: list[bytes] = [b""] * size
        self._tree_index: list[int] = [0] * n
        for sorted_pos, value_index in enumerate(sorted(range(n), key=hashes.__getitem__)):
            tree_index = size - 1 - sorted_pos
            tree[tree_index] = hashes[value_index]
            self._tree_index[value_index] = tree_index
        for i in range(size - 1 - n, -1, -1):
            tree[i] = _node_hash(tree[2 * i + 1], tree[2 * i + 2])
        self._tree = tree
        self._commitments = [bytes(c) for c in commitments]

    def __len__(self) -> int:
        return len(self._commitments)

    @property
    def root(self) -> bytes:
        """The 32-byte root to anchor with ``stampBatch(root, count)``."""
        return self._tree[0]

    @property
    def commitments(self) -> list[bytes]:
        """The commitments in input order (a copy)."""
        return list(self._commitments)

    def proof(self, index: int) -> list[bytes]:
        """Sibling path for the ``index``-th commitment in *input* order, leaf to root."""
        if isinstance(index, bool) or not 0 <= index < len(self._commitments):
            raise ValidationError(
                f"leaf index {index} out of range for a tree of {len(self._commitments)} commitments"
            )
        tree = self._tree
        i = self._tree_index[index]
        path: list[bytes] = []
        while i > 0:
            path.append(tree[i + 1] if i % 2 else tree[i - 1])
            i = (i - 1) // 2
        return path


def verify_proof(proof: Sequence[bytes], root: bytes, commitment: bytes) -> bool:
    """``MerkleProof.verify(proof, root, leaf_hash(commitment))``, offline.

    Returns False when the proof does not lead to ``root``; raises
    ValidationError when an input is not 32 bytes (malformed, not merely wrong).
    """
    expected = _require_bytes32(root, "root")
    node = leaf_hash(commitment)
    for k, sibling in enumerate(proof):
        node = _node_hash(node, _require_bytes32(sibling, f"proof[{k}]"))
    return node == expected


# --------------------------------------------------------------------------- certificates


def _hex32(value: str) -> str:
    body = value[2:] if value[:2] in ("0x", "0X") else None
    if body is None or len(body) != 64:
        raise ValueError("must be 0x followed by 64 hex digits")
    try:
        bytes.fromhex(body)
    except ValueError:
        raise ValueError("must be 0x followed by 64 hex digits") from None
    return "0x" + body.lower()


def _address(value: str) -> str:
    checksummed = _checksummed(value)
    if checksummed is None:
        raise ValueError("not a valid address (or bad checksum)")
    return checksummed


def _signature(value: str) -> str:
    body = value[2:] if value[:2] in ("0x", "0X") else None
    if body is None or len(body) != 130 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ValueError("must be 0x followed by 130 hex digits (a 65-byte signature)")
    return "0x" + body.lower()


Hex32 = Annotated[str, AfterValidator(_hex32)]
Address = Annotated[str, AfterValidator(_address)]
Signature = Annotated[str, AfterValidator(_signature)]


# --------------------------------------------------------------------------- authorship

AUTHORSHIP_TYPES: dict[str, list[dict[str, str]]] = {"Authorship": [{"name": "root", "type": "bytes32"}]}
"""The EIP-712 type an author signs: the root of the StandardMerkleTree of the leaves it committed."""


def authorship_domain(chain_id: int, contract: str) -> dict[str, Any]:
    """The EIP-712 domain of an author's signature: the chain and the TimestampRegistry of the stamp,
    so a signature cannot be carried to another chain or registry."""
    return {"name": "ipledger timestamps", "version": "1", "chainId": chain_id,
            "verifyingContract": to_checksum_address(contract)}


def sign_authorship(private_key: Any, chain_id: int, contract: str, root: str) -> str:
    """The author's signature of ``Authorship(root)``: 0x and 65 bytes (r, s, v with v 27/28)."""
    signed = Account.sign_typed_data(private_key, authorship_domain(chain_id, contract), AUTHORSHIP_TYPES,
                                     {"root": bytes.fromhex(root[2:])})
    return "0x" + bytes(signed.signature).hex()


def authorship_signer(chain_id: int, contract: str, root: str, signature: str) -> str | None:
    """The checksummed address that signed ``Authorship(root)``, or None when the signature is malformed."""
    message = encode_typed_data(authorship_domain(chain_id, contract), AUTHORSHIP_TYPES,
                                {"root": bytes.fromhex(root[2:])})
    try:
        return str(Account.recover_message(message, signature=bytes.fromhex(signature[2:])))
    except Exception:  # noqa: BLE001 - eth_keys raises several kinds for a signature that is not one
        return None


class Authorship(BaseModel):
    """The author's proof of a stamp someone else sent: its EIP-712 signature of ``Authorship(root)``,
    ``root`` being that of the StandardMerkleTree of the leaves it committed together (a single leaf's
    is ``keccak256(leaf)``, with an empty proof), and the proof from this certificate's leaf to it."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    root: Hex32
    proof: list[Hex32]
    signature: Signature


def _iso_utc(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).isoformat().replace("+00:00", "Z")


class Certificate(BaseModel):
    """Everything needed to verify a timestamp without this software.

    ``leaf`` is the commitment; ``root`` the value anchored on chain, the root of
    the ``StandardMerkleTree`` the leaf belongs to: the proof leads from
    ``leaf_hash(leaf)`` to ``root`` (empty for a single stamp, whose root is
    ``leaf_hash(leaf)``). A legacy single stamp (written before that rule) has
    ``root == leaf`` and an empty proof. Hex values are normalised to
    lowercase and addresses to checksum form on load. ``block_time_iso`` is
    derived from ``block_time`` when omitted and must agree with it when given.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    version: int = 1
    chain_id: int = Field(gt=0)
    contract: Address
    tx_hash: Hex32
    block_number: int = Field(ge=0)
    block_hash: Hex32
    block_time: int = Field(ge=0)
    block_time_iso: str = ""
    file_name: str
    digest: Hex32
    author: Address
    salt: Hex32
    leaf: Hex32
    proof: list[Hex32]
    root: Hex32
    stamper: Address
    batch_size: int = Field(ge=1)
    revises: Revises | None = None
    """The stamp this one revises, when it is a revision (see the module notes); absent otherwise."""
    authorship: Authorship | None = None
    """The author's signature, when someone else (a stamp service) sent the stamp; absent otherwise."""

    @pydantic.model_validator(mode="before")
    @classmethod
    def _fill_iso(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and not data.get("block_time_iso")
            and isinstance(data.get("block_time"), int)
        ):
            try:
                data = {**data, "block_time_iso": _iso_utc(data["block_time"])}
            except (OverflowError, ValueError, OSError):
                pass  # out of datetime's range: the after-validator reports it
        return data

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Certificate:
        if self.version != 1:
            raise ValueError(
                f"unsupported certificate version {self.version} (this software reads version 1)"
            )
        try:
            iso = datetime.fromisoformat(self.block_time_iso)
        except ValueError:
            raise ValueError(
                f"block_time_iso is not an ISO 8601 time: {self.block_time_iso!r}"
            ) from None
        if iso.tzinfo is None or iso.timestamp() != self.block_time:
            raise ValueError(
                f"block_time_iso {self.block_time_iso!r} disagrees with block_time {self.block_time}"
            )
        if self.root == self.leaf and (self.proof or self.batch_size != 1):
            raise ValueError("a single stamp (root == leaf) has an empty proof and batch_size 1")
        if self.batch_size == 1 and self.proof:
            raise ValueError("a batch of one has an empty proof")
        if self.batch_size > 1 and not self.proof:
            raise ValueError(f"a batch of {self.batch_size} leaves has a proof for each leaf")
        if self.revises is not None:
            self.revises.check_link(self)
        return self

    def chain(self) -> list[Certificate]:
        """This certificate and every one it revises, back to the first version (first version first)."""
        found: list[Certificate] = [self]
        while found[-1].revises is not None:
            found.append(found[-1].revises.certificate)
        return found[::-1]

    @property
    def is_batch(self) -> bool:
        """True when the stamp anchored several leaves (a Merkle root of ``batch_size`` commitments)."""
        return self.batch_size > 1

    @property
    def is_legacy(self) -> bool:
        """True for a single stamp written before every root was a ``StandardMerkleTree`` root:
        its key is the raw leaf (``root == leaf``), so no Merkle proof applies."""
        return self.root == self.leaf

    @classmethod
    def loads(cls, text: str | bytes) -> Certificate:
        """Parse a certificate; any defect is a ValidationError, never a traceback."""
        try:
            return cls.model_validate_json(text)
        except pydantic.ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'certificate'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ValidationError(**messages.notice("certificate-malformed", reasons=reasons)) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Certificate:
        """Read and parse the certificate at ``path``: its JSON, or a certificate PDF (which carries it)."""
        p = Path(path)
        try:
            text = p.read_bytes()
        except FileNotFoundError:
            raise ValidationError(f"no certificate at {p}", path=str(p)) from None
        except OSError as exc:
            raise ValidationError(
                f"cannot read certificate {p}: {exc.strerror or exc}", path=str(p)
            ) from None
        from ledger.documents.pdf import CERTIFICATE_ATTACHMENT, attachment, is_pdf

        try:
            if is_pdf(text):  # a certificate PDF carries its certificate JSON as an attachment
                text = attachment(text, CERTIFICATE_ATTACHMENT, str(p))
            return cls.loads(text)
        except ValidationError as exc:
            raise ValidationError(f"{exc.message} (in {p})", path=str(p)) from None

    def dumps(self) -> str:
        """Pretty JSON with a trailing newline, stable field order (``revises`` only in a revision)."""
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2) + "\n"

    def dump(self, path: str | os.PathLike[str], *, fsync: bool = True, overwrite: bool = True) -> None:
        """Write atomically (temp file in the same folder, then ``os.replace``).

        A crash mid-write must never leave a truncated certificate where a good
        one, or none, was: the certificate may be the only copy of the salt.
        The file gets the mode the umask gives a new file (0644 under umask 022), as any document to share.
        With ``overwrite=False`` an existing file at ``path`` is never replaced
        (the temp file is hard-linked into place, which fails if the name is
        taken): FileExistsError says so and nothing was written.
        """
        p = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        except OSError as exc:
            raise ValidationError(
                f"cannot write certificate {p}: {exc.strerror or exc}", path=str(p)
            ) from None
        try:
            share(fd)  # a certificate is for others to verify: the umask's mode, not mkstemp's 0600
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.dumps())
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            if overwrite:
                os.replace(tmp, p)
            else:
                _link_new(tmp, p)
        except FileExistsError:
            raise
        except OSError as exc:
            raise ValidationError(
                f"cannot write certificate {p}: {exc.strerror or exc}", path=str(p)
            ) from None
        finally:
            Path(tmp).unlink(missing_ok=True)


class Revises(BaseModel):
    """What a revision names: the root and leaf of the stamp it revises, the nonce its salt was made
    from, and that stamp's certificate whole (which may itself revise another)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    root: Hex32
    leaf: Hex32
    nonce: Hex32
    certificate: Certificate

    def check_link(self, revision: Certificate) -> None:
        """The link holds offline: it names the earlier certificate's root and leaf, the revision's salt
        opens to them, both are on one chain and contract, and the revision is not the earlier one's elder."""
        earlier = self.certificate
        if (self.root, self.leaf) != (earlier.root, earlier.leaf):
            raise ValueError(f"the revision names root {self.root} and leaf {self.leaf}, but the certificate it "
                             f"carries has root {earlier.root} and leaf {earlier.leaf}")
        salt = revision_salt(bytes.fromhex(self.nonce[2:]), bytes.fromhex(self.root[2:]), bytes.fromhex(self.leaf[2:]))
        if "0x" + salt.hex() != revision.salt:
            raise ValueError("the revision's salt does not open to the stamp it names: the link was not committed "
                             "when the revision was stamped")
        if earlier.chain_id != revision.chain_id:
            raise ValueError(f"a revision on chain {revision.chain_id} of a stamp on chain {earlier.chain_id}")
        if earlier.block_number > revision.block_number:
            raise ValueError(f"the revision (block {revision.block_number}) is older than the stamp it revises "
                             f"(block {earlier.block_number})")


Certificate.model_rebuild()


def _link_new(tmp: str, path: Path) -> None:
    """Give the complete file ``tmp`` the name ``path`` unless that name exists (FileExistsError)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # A file system without hard links: exclusive create, then copy (not atomic, still no clobber).
        with open(path, "x", encoding="utf-8") as out, open(tmp, encoding="utf-8") as src:
            out.write(src.read())


_CERTIFICATE_PDF = re.compile(r"\.ipledger(\.[1-9][0-9]{0,8})?\.pdf\Z")


def is_certificate_name(name: str) -> bool:
    """Whether a file name is an ipledger certificate's: ``*.ipledger.json`` or ``*.ipledger.<n>.json``,
    or its printable form ``*.ipledger[.<n>].pdf`` (:func:`certificate_pdf_path`)."""
    return (name.endswith(CERTIFICATE_SUFFIX) or _NUMBERED_CERTIFICATE.search(name) is not None
            or _CERTIFICATE_PDF.search(name) is not None)


def certificate_pdf_path(cert_path: str | os.PathLike[str]) -> Path:
    """The PDF beside a certificate: ``report.pdf.ipledger.json`` -> ``report.pdf.ipledger.pdf``."""
    p = Path(cert_path)
    return p.with_name(p.name[: -len(".json")] + ".pdf") if p.name.endswith(".json") else p.with_suffix(".pdf")


def certificate_path(file_path: str | os.PathLike[str], number: int = 1) -> Path:
    """Where a file's certificate lives: ``<file>.ipledger.json`` beside it, the first one.

    A file stamped again (changed since, or by another author) gets its next certificate
    beside the earlier ones as ``<file>.ipledger.<number>.json`` (2, 3, ...): a certificate
    is never overwritten by another stamp, because the earliest proof is the valuable one.
    The number sits after ``.ipledger`` so that no file's numbered certificate can share a
    name with another file's certificate (``log.2.ipledger.json`` belongs to ``log.2``).
    """
    p = Path(file_path)
    if isinstance(number, bool) or number < 1:
        raise ValidationError(f"a certificate number starts at 1, got {number!r}")
    if number == 1:
        return p.with_name(p.name + CERTIFICATE_SUFFIX)
    return p.with_name(f"{p.name}.ipledger.{number}.json")


def certificate_number(file_path: str | os.PathLike[str], cert_path: str | os.PathLike[str]) -> int | None:
    """The number of ``cert_path`` among the certificates of ``file_path`` (1 for the first), else None."""
    base, name = Path(file_path).name, Path(cert_path).name
    if name == base + CERTIFICATE_SUFFIX:
        return 1
    prefix = base + ".ipledger."
    if not name.startswith(prefix):
        return None
    match = _NUMBERED_CERTIFICATE.fullmatch(name, len(base))
    if match is None or int(match.group(1)) < 2:
        return None
    return int(match.group(1))


def certificate_index(names: Iterable[str]) -> dict[str, list[str]]:
    """The certificates in a folder listing, by the name of the file they certify, first to last.

    Each certificate name belongs to exactly one file name (``a.ipledger.json`` and
    ``a.ipledger.<n>.json`` to ``a``), so one pass over the listing serves every file in it.
    """
    found: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        if name.endswith(CERTIFICATE_SUFFIX):
            base, number = name[: -len(CERTIFICATE_SUFFIX)], 1
        elif (match := _NUMBERED_CERTIFICATE.search(name)) is not None and int(match.group(1)) >= 2:
            base, number = name[: match.start()], int(match.group(1))
        else:
            continue
        if base:
            found.setdefault(base, []).append((number, name))
    return {base: [name for _, name in sorted(certs)] for base, certs in found.items()}


class CertificateIndex:
    """Finds the certificates beside files, listing each folder once (a folder of 10,000 files
    costs one ``listdir``, not 10,000)."""

    def __init__(self) -> None:
        self._folders: dict[Path, dict[str, list[str]]] = {}

    def of(self, file_path: str | os.PathLike[str]) -> list[Path]:
        """The certificates of ``file_path`` found beside it, first to last by number."""
        p = Path(file_path)
        if p.parent not in self._folders:
            try:
                names: list[str] = os.listdir(p.parent)
            except OSError:
                names = []
            self._folders[p.parent] = certificate_index(names)
        return [p.with_name(name) for name in self._folders[p.parent].get(p.name, [])]


def certificate_paths(file_path: str | os.PathLike[str]) -> list[Path]:
    """The certificates of a file found beside it, first to last by number."""
    return CertificateIndex().of(file_path)


def write_certificate(
    cert: Certificate, file_path: str | os.PathLike[str], number: int = 1, *, fsync: bool = True
) -> Path:
    """Write ``cert`` as the ``number``-th certificate of ``file_path``, never over another stamp's.

    The same stamp (same leaf: same digest, author and salt) is rewritten in place, so a
    certificate refreshed after its transaction moved to another block replaces its
    outdated self. A name held by any other certificate, or by a file that is not one,
    is left alone and the next free number is used. Returns where it was written.
    """
    while True:
        path = certificate_path(file_path, number)
        try:
            cert.dump(path, fsync=fsync, overwrite=False)
            return path
        except FileExistsError:
            try:
                existing: Certificate | None = Certificate.load(path)
            except ValidationError:
                existing = None
            if existing is not None and existing.leaf == cert.leaf:
                cert.dump(path, fsync=fsync)
                return path
            number += 1


def anchor_key(cert: Certificate) -> bytes:
    """The key the contract records the stamp under: always the certificate's root.

    That is the ``StandardMerkleTree`` root (for a single stamp ``keccak256(leaf)``), or for a
    legacy single stamp the leaf itself (``root == leaf``).
    """
    return bytes.fromhex(cert.root[2:])


def check_certificate_offline(cert: Certificate, file_path: str | os.PathLike[str]) -> None:
    """Check everything that needs no chain; raise VerificationError on the first failure.

    What is left for the chain: that :func:`anchor_key` was stamped by the
    contract at ``cert.block_number`` in ``cert.tx_hash``.
    """
    check_certificate_digest(cert, file_digest(file_path), str(file_path))


def check_certificate_digest(cert: Certificate, actual: bytes, what: str = "the file") -> None:
    """:func:`check_certificate_offline` for a digest computed elsewhere (in a browser, say)."""
    if "0x" + actual.hex() != cert.digest:
        raise VerificationError(
            **messages.notice("certificate-mismatch", what=what, actual="0x" + actual.hex(), digest=cert.digest),
            path=what,
        )
    leaf = commitment(actual, cert.author, bytes.fromhex(cert.salt[2:]))
    if "0x" + leaf.hex() != cert.leaf:
        raise VerificationError(**messages.notice("certificate-leaf", author=cert.author, leaf="0x" + leaf.hex(),
                                                  claimed=cert.leaf))
    if not cert.is_legacy:
        proof = [bytes.fromhex(h[2:]) for h in cert.proof]
        if not verify_proof(proof, bytes.fromhex(cert.root[2:]), leaf):
            raise VerificationError(**messages.notice("certificate-proof", leaf=cert.leaf, root=cert.root))


def check_authorship(cert: Certificate) -> None:
    """The author is proven: it sent the stamp itself (``stamper == author``), or it signed ``Authorship(root)``
    over a root its leaf leads to. Run once the chain has confirmed the certificate's ``stamper``."""
    signed = cert.authorship
    if signed is None:
        if cert.stamper != cert.author:
            raise VerificationError(**messages.notice("certificate-author-unproven", author=cert.author,
                                                      stamper=cert.stamper))
        return
    proof = [bytes.fromhex(h[2:]) for h in signed.proof]
    if not verify_proof(proof, bytes.fromhex(signed.root[2:]), bytes.fromhex(cert.leaf[2:])):
        raise VerificationError(**messages.notice("certificate-authorship-proof", leaf=cert.leaf, root=signed.root))
    signer = authorship_signer(cert.chain_id, cert.contract, signed.root, signed.signature)
    if signer is None:
        raise VerificationError(**messages.notice("certificate-authorship-unreadable", author=cert.author))
    if signer != cert.author:
        raise VerificationError(**messages.notice("certificate-authorship-signature", author=cert.author,
                                                  signer=signer))
