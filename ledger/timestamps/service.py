"""Timestamping files: author-bound commitments on chain, certificates beside the files.

The file never leaves the machine: only ``keccak256(abi.encode(sha256(file), author, salt))``
goes on chain, alone (``stamp(leaf)``, recorded under the one-leaf root ``keccak256(leaf)``) or as
the Merkle root of a batch (``stampBatch``): every certificate's root is a ``StandardMerkleTree`` root.

No lost data: before anything is sent, the batch (every salt and proof) is written
durably to ``<data_dir>/stamps/<root>.json`` — a certificate is worthless without its
salt. Certificates are written only from a receipt, i.e. from what the chain holds,
and :meth:`TimestampService.refresh_certificates` rewrites them if a transaction
had to be re-sent after the chain lost blocks and landed in another block.

No lost proof: a certificate is never overwritten by another stamp. The earliest proof
of existence is the valuable one, so a file whose content already has a certificate that
stands on this chain (same author) is not stamped again (it is *kept*), and a file stamped
again after it changed gets its new certificate beside the earlier ones
(``<file>.ipledger.2.json``, ...). Certificates themselves are not stamped unless asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict

from ledger import messages
from ledger.chain.client import ChainClient, Contract, Receipt
from ledger.chain.finality import Finality
from ledger.errors import ContractError, LedgerError, NotFoundError, ValidationError, VerificationError
from ledger.timestamps.proofs import (
    Authorship,
    Certificate,
    CertificateIndex,
    MerkleTree,
    Revises,
    anchor_key,
    certificate_number,
    certificate_path,
    check_authorship,
    check_certificate_digest,
    check_certificate_offline,
    commitment,
    file_digest,
    is_certificate_name,
    new_salt,
    revision_salt,
    sign_authorship,
    verify_proof,
    write_certificate,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

Progress = Callable[[int], None]
"""Called with a number of units done (bytes while hashing)."""

Anchored = Callable[[Certificate], bool]
"""Whether an earlier certificate stands on this chain (its key recorded as it says)."""


class StampItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    certificate: str
    file_name: str
    digest: str
    salt: str
    leaf: str
    proof: list[str]
    revises: Revises | None = None
    """The stamp this file's stamp revises (its salt binds it; see ``proofs.revision_salt``)."""
    authorship: Authorship | None = None
    """The author's signature over the batch's own root, when a stamp service anchors the leaf."""


class StampBatch(BaseModel):
    """What must survive a crash between sending a stamp and writing its certificates."""

    version: int = 1
    root: str
    author: str
    batch_size: int
    items: list[StampItem]
    authorship_signature: str | None = None
    """The author's signature of ``Authorship(root)`` (``proofs.sign_authorship``), for a stamp service."""


@dataclass(frozen=True)
class Verified:
    """A certificate that holds for its file on this chain."""

    file: str
    author: str
    stamper: str
    chain_id: int
    block_number: int
    block_time: int
    block_time_iso: str
    tx_hash: str
    digest: str
    batch_size: int
    finality: Finality | None = None
    """How final the stamp's block is as verified (confirmations, or the chain's finalized block)."""

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "finality"}
        data["finality"] = self.finality.as_json() if self.finality is not None else None
        return data


@dataclass(frozen=True)
class Anchor:
    """Where a batch's key was recorded on chain: what every certificate of the batch shares."""

    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    block_hash: str
    block_time: int
    stamper: str


@dataclass(frozen=True)
class Kept:
    """A file not stamped again: an earlier certificate of its content stands on this chain."""

    file: str
    certificate_file: str
    certificate: Certificate
    restored: bool = False
    """The certificate was missing and was written again from the stamp archive (its salt and proof)."""


Restorer = Callable[[Path, str, str, int], "Kept | None"]
"""For a file about to be stamped (path, digest, author, the certificate number it would get): an earlier
stamp of it in the archive that stands on chain, its certificate written again, or None."""


@dataclass(frozen=True)
class StampPlan:
    """What a stamp will do: the batch to send (None when every file is kept) and the kept files."""

    batch: StampBatch | None
    kept: list[Kept] = field(default_factory=list)


@dataclass(frozen=True)
class StampResult:
    """What a stamp did: the certificates it wrote (``paths[i]`` holds ``certificates[i]``, the
    certificate of ``files[i]``) and the files it kept because an earlier certificate stands."""

    certificates: list[Certificate] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    def with_kept(self, kept: list[Kept]) -> StampResult:
        return StampResult(self.certificates, self.paths, self.files, [*self.kept, *kept])

    def as_json(self) -> list[dict[str, Any]]:
        """One entry per file: the certificate that stands for it, where it is, and whether it was kept."""
        written = [
            {"file": file, "certificate_file": path, "kept": False, **cert.model_dump(mode="json")}
            for file, path, cert in zip(self.files, self.paths, self.certificates, strict=True)
        ]
        kept = [
            {"file": k.file, "certificate_file": k.certificate_file, "kept": True, "restored": k.restored,
             **k.certificate.model_dump(mode="json")}
            for k in self.kept
        ]
        return written + kept


def issue_certificates(batch: StampBatch, anchor: Anchor) -> StampResult:
    """Write one certificate per file of ``batch`` beside the file (atomically, never over another stamp's).

    When the chain records another stamper than the author (a front-runner copied the pending stamp), each
    certificate carries the author's signature of the batch's root (``batch.authorship_signature``): the
    commitment still opens only to the author, and that signature is what proves it."""
    certificates, paths, files = [], [], []
    signed_by_author = batch.authorship_signature is not None and anchor.stamper != batch.author
    for item in batch.items:
        authorship = item.authorship or (Authorship(
            root=batch.root, proof=item.proof, signature=str(batch.authorship_signature)) if signed_by_author else None)
        cert = Certificate(
            chain_id=anchor.chain_id,
            contract=anchor.contract,
            tx_hash=anchor.tx_hash,
            block_number=anchor.block_number,
            block_hash=anchor.block_hash,
            block_time=anchor.block_time,
            file_name=item.file_name,
            digest=item.digest,
            author=batch.author,
            salt=item.salt,
            leaf=item.leaf,
            proof=item.proof,
            root=batch.root,
            stamper=anchor.stamper,
            batch_size=batch.batch_size,
            revises=item.revises,
            authorship=authorship,
        )
        number = certificate_number(item.file, item.certificate) or 1
        path = write_certificate(cert, item.file, number, fsync=batch.batch_size == 1)
        certificates.append(cert)
        paths.append(str(path))
        files.append(item.file)
    if batch.batch_size > 1:
        os.sync()  # one flush for the whole batch instead of one fsync per file
    return StampResult(certificates, paths, files)


def issue_service_certificates(batch: StampBatch, answers: Sequence[dict[str, Any]]) -> StampResult:
    """Certificates for a batch anchored by a stamp service (``answers[i]``: the service's ``anchored`` answer
    for ``batch.items[i]``), in the format of every batch certificate: each leaf's own round root, proof
    and transaction, with this client's digest, author and salt, and the author's signature over the batch's
    own root (``batch.authorship_signature``) with the leaf's proof to it: the service sent the stamp, so that
    signature is what proves the author. A proof that does not lead from the leaf to its root is refused here
    (VerificationError), before any certificate is written."""
    if len(answers) != len(batch.items):
        raise ValidationError(f"{len(answers)} answers for {len(batch.items)} leaves")
    rounds: dict[str, tuple[Anchor, int, list[StampItem]]] = {}
    for item, answer in zip(batch.items, answers, strict=True):
        if answer.get("status") != "anchored" or answer.get("leaf") != item.leaf:
            raise VerificationError(f"the stamp service has not anchored {item.leaf} ({item.file_name})")
        root, proof = str(answer["root"]), [str(p) for p in answer["proof"]]
        if not verify_proof([bytes.fromhex(p[2:]) for p in proof], bytes.fromhex(root[2:]),
                            bytes.fromhex(item.leaf[2:])):
            raise VerificationError(**messages.notice("certificate-proof", leaf=item.leaf, root=root))
        anchor = Anchor(
            chain_id=int(answer["chain_id"]), contract=str(answer["contract"]), tx_hash=str(answer["tx_hash"]),
            block_number=int(answer["block_number"]), block_hash=str(answer["block_hash"]),
            block_time=int(answer["block_time"]), stamper=str(answer["stamper"]),
        )
        group = rounds.setdefault(root, (anchor, int(answer["batch_size"]), []))
        authorship = None if batch.authorship_signature is None else Authorship(
            root=batch.root, proof=item.proof, signature=batch.authorship_signature)
        group[2].append(item.model_copy(update={"proof": proof, "authorship": authorship}))
    result = StampResult()
    for root, (anchor, size, items) in rounds.items():
        part = issue_certificates(StampBatch(root=root, author=batch.author, batch_size=size, items=items), anchor)
        result = StampResult([*result.certificates, *part.certificates], [*result.paths, *part.paths],
                             [*result.files, *part.files])
    return result


def stamp_call_data(batch: StampBatch) -> bytes:
    """The calldata of ``stamp(leaf)`` or ``stampBatch(root, count)`` for a batch (for relayed requests).

    A single stamp sends its leaf: the contract records it under ``keccak256(leaf)``, the batch's root.
    """
    root = bytes.fromhex(batch.root[2:])
    if batch.batch_size == 1:
        leaf = bytes.fromhex(batch.items[0].leaf[2:])
        return function_signature_to_4byte_selector("stamp(bytes32)") + abi_encode(["bytes32"], [leaf])
    return function_signature_to_4byte_selector("stampBatch(bytes32,uint256)") + abi_encode(
        ["bytes32", "uint256"], [root, batch.batch_size])


def collect_files(paths: Sequence[Path], include_certificates: bool = False) -> list[Path]:
    """Expand directories (recursively, skipping hidden files); check each file.

    Certificates (``*.ipledger.json``, ``*.ipledger.<n>.json``) are not stamped: named
    alone they are refused, in a folder they are skipped, unless ``include_certificates``.
    """
    if not paths:
        raise ValidationError("nothing to stamp: name at least one file or directory")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and (include_certificates or not is_certificate_name(p.name))
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise ValidationError(f"no files to stamp in {path}")
            files.extend(found)
        elif path.is_file():
            if is_certificate_name(path.name) and not include_certificates:
                raise ValidationError(
                    f"{path} is an ipledger certificate, not a file to stamp (its file is stamped, "
                    f"the certificate is the proof); pass --include-certificates to stamp it anyway",
                    path=str(path),
                )
            files.append(path)
        elif path.exists():
            raise ValidationError(f"{path} is not a regular file")
        else:
            raise ValidationError(f"no such file: {path}")
    seen: set[Path] = set()
    unique = []
    for f in files:
        resolved = f.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(f)
    for f in unique:
        if not os.access(f, os.R_OK):
            raise ValidationError(f"cannot read {f}: permission denied")
        if not os.access(f.parent, os.W_OK):
            raise ValidationError(f"cannot write the certificate beside {f}: {f.parent} is not writable")
    return unique


def _never(_: Certificate) -> bool:
    return False


class TimestampService:
    """Stamp files and verify certificates against the TimestampRegistry."""

    def __init__(
        self, client: ChainClient, registry: Contract, archive_dir: Path, earlier: Sequence[str] = ()
    ) -> None:
        self.client = client
        self.registry = registry
        self.archive_dir = archive_dir
        self.known = [registry.address, *(to_checksum_address(a) for a in earlier)]
        """This ledger's TimestampRegistry and the ones it replaced: their stamps stay valid."""

    # -- stamping ----------------------------------------------------------------

    def prepare(self, files: Sequence[Path], author: str, progress: Progress | None = None) -> StampBatch:
        """Hash every file and build the commitments (and the Merkle tree for several); keeps nothing."""
        return self.prepare_files(files, author, progress)

    @staticmethod
    def prepare_files(files: Sequence[Path], author: str, progress: Progress | None = None) -> StampBatch:
        """:meth:`prepare` without a chain: hashing and commitments are local."""
        batch = TimestampService.plan_files(files, author, _never, progress).batch
        assert batch is not None  # nothing is kept when no earlier certificate stands
        return batch

    def plan(
        self, files: Sequence[Path], author: str, progress: Progress | None = None, *,
        revises: Certificate | None = None,
    ) -> StampPlan:
        """:meth:`prepare`, keeping every file whose content already has a certificate on this chain;
        with ``revises`` (one file only) the stamp revises that certificate's, which must stand here."""
        if revises is not None:
            self.verify_chain(revises)
        return self.plan_files(files, author, self.anchored_checker(), progress, revises=revises,
                               restore=self.archive_restorer())

    def archive_restorer(self) -> Restorer:
        """A :data:`Restorer` from this ledger's stamp archive: a file whose certificate was lost (deleted,
        not copied along) gets its earliest proof back instead of a later stamp replacing it. The archive is
        read once per command, and a batch file is parsed only if it names the digest."""
        archived: list[Path] | None = None

        def restore(path: Path, digest: str, author: str, number: int) -> Kept | None:
            nonlocal archived
            if archived is None:
                archived = sorted(self.archive_dir.glob("0x*.json")) if self.archive_dir.is_dir() else []
            found: list[tuple[int, StampBatch, StampItem]] = []
            for batch_file in archived:
                try:
                    text = batch_file.read_text(encoding="utf-8")
                    if digest not in text:
                        continue
                    batch = StampBatch.model_validate_json(text)
                except (OSError, ValueError):
                    continue  # not a batch this software wrote: left alone
                if batch.author != author:
                    continue
                stamper, block_number, _ = self.client.call(self.registry.functions.recordOf(HexBytes(batch.root)))
                if stamper == ZERO_ADDRESS:
                    continue  # archived, never anchored (refused or lost): nothing to restore
                found += [(int(block_number), batch, item) for item in batch.items if item.digest == digest]
            if not found:
                return None
            block_number, batch, item = min(found, key=lambda entry: entry[0])  # the earliest proof
            one = batch.model_copy(update={"items": [item.model_copy(update={
                "file": str(path), "certificate": str(certificate_path(path, number))})]})
            [cert] = self.write_certificates(one, self._first_receipt(batch.root, block_number)).certificates
            return Kept(str(path), str(certificate_path(path, number)), cert, restored=True)

        return restore

    @staticmethod
    def plan_files(
        files: Sequence[Path], author: str, anchored: Anchored, progress: Progress | None = None, *,
        revises: Certificate | None = None, restore: Restorer | None = None,
    ) -> StampPlan:
        """Hash the files; keep those an earlier certificate (same digest and author, ``anchored``)
        already proves, and commit the others, each to a certificate name no other stamp holds.
        With ``revises``, the one file's salt binds that earlier stamp (a version chain)."""
        if revises is not None and len(files) != 1:
            raise ValidationError(f"a stamp revises one earlier stamp: name one file, not {len(files)}")
        author = to_checksum_address(author)
        index = CertificateIndex()
        kept: list[Kept] = []
        todo: list[tuple[Path, Path, bytes, int]] = []
        for f in files:
            digest = file_digest(f)
            if progress is not None:
                progress(f.stat().st_size)
            path = f.resolve()
            earlier = index.of(path)
            standing = _standing(earlier, _hex(digest), author, anchored)
            if standing is not None:
                kept.append(Kept(str(path), str(standing[0]), standing[1]))
                continue
            last = certificate_number(path, earlier[-1]) if earlier else None
            restored = None if restore is None or revises is not None else restore(
                path, _hex(digest), author, (last or 0) + 1)
            if restored is not None:
                kept.append(restored)
                continue
            todo.append((f, path, digest, (last or 0) + 1))
        if not todo:
            return StampPlan(None, kept)
        link: Revises | None = None
        if revises is not None:
            nonce = new_salt()
            link = Revises(root=revises.root, leaf=revises.leaf, nonce=_hex(nonce), certificate=revises)
            salts = [revision_salt(nonce, bytes.fromhex(revises.root[2:]), bytes.fromhex(revises.leaf[2:]))]
        else:
            salts = [new_salt() for _ in todo]
        leaves = [commitment(d, author, s) for (_, _, d, _), s in zip(todo, salts, strict=True)]
        # One rule for every stamp: the root of a StandardMerkleTree (of one leaf: keccak256(leaf)).
        tree = MerkleTree(leaves)
        root, proofs = tree.root, [tree.proof(i) for i in range(len(leaves))]
        batch = StampBatch(
            root=_hex(root),
            author=author,
            batch_size=len(todo),
            items=[
                StampItem(
                    file=str(path),
                    certificate=str(certificate_path(path, number)),
                    file_name=f.name,
                    digest=_hex(d),
                    salt=_hex(s),
                    leaf=_hex(leaf),
                    proof=[_hex(p) for p in proof],
                    revises=link,
                )
                for (f, path, d, number), s, leaf, proof in zip(todo, salts, leaves, proofs, strict=True)
            ],
        )
        return StampPlan(batch, kept)

    def anchored_checker(self) -> Anchored:
        """Whether a certificate's key is recorded on this chain, by a known registry, as it says.

        One ``recordOf`` per distinct root (a folder stamped in one batch costs one call).
        """
        seen: dict[tuple[str, str], tuple[str, int, int]] = {}

        def anchored(cert: Certificate) -> bool:
            if cert.chain_id != self.client.chain_id or to_checksum_address(cert.contract) not in self.known:
                return False
            key = (cert.contract, cert.root)
            if key not in seen:
                registry = self.client.contract(cast(Any, self.registry.abi), cert.contract)
                stamper, block_number, block_time = self.client.call(
                    registry.functions.recordOf(HexBytes(cert.root)))
                seen[key] = (stamper, block_number, block_time)
            return seen[key] == (cert.stamper, cert.block_number, cert.block_time)

        return anchored

    def send(self, batch: StampBatch, sender: LocalAccount | None = None) -> StampResult:
        """Archive the batch durably, stamp it, and write one certificate per file.

        If another account stamped the same key first (a copied pending transaction),
        the certificates point at that first record: the commitment still opens only
        to our author, and the author's signature of the root, made here before sending
        and archived with the batch, goes into them to prove it (``issue_certificates``).
        """
        signer = self.client.signer(sender)
        if signer.address == batch.author and batch.authorship_signature is None:
            batch = batch.model_copy(update={"authorship_signature": sign_authorship(
                signer.key, self.client.chain_id, self.registry.address, batch.root)})
        self._archive(batch)
        root = HexBytes(batch.root)
        fn = (
            self.registry.functions.stamp(HexBytes(batch.items[0].leaf))  # recorded under keccak256(leaf) == root
            if batch.batch_size == 1
            else self.registry.functions.stampBatch(root, batch.batch_size)
        )
        try:
            receipt = self.client.transact(fn, sender=sender)
        except ContractError as exc:
            if exc.name != "TimestampRegistryAlreadyStamped" or exc.arguments.get("key") != batch.root:
                raise
            receipt = self._first_receipt(batch.root, int(exc.arguments["blockNumber"]))
        return self.write_certificates(batch, receipt)

    def stamp_files(
        self, paths: Sequence[Path], sender: LocalAccount | None = None, progress: Progress | None = None,
        *, include_certificates: bool = False, revises: Certificate | None = None,
    ) -> StampResult:
        """Stamp files and folders in one transaction; files an earlier certificate proves are kept.
        With ``revises`` the one file's stamp revises that certificate's (a version chain)."""
        files = collect_files(paths, include_certificates)
        signer = self.client.signer(sender)
        plan = self.plan(files, signer.address, progress, revises=revises)
        if plan.batch is None:
            return StampResult(kept=plan.kept)
        return self.send(plan.batch, signer).with_kept(plan.kept)

    def _archive(self, batch: StampBatch) -> None:
        self.archive(self.archive_dir, batch)

    @staticmethod
    def archive(folder: Path, batch: StampBatch) -> None:
        """Write the batch (salts, proofs) durably before it is sent: certificates come from it."""
        from ledger.files import write_json_atomic

        write_json_atomic(folder / f"{batch.root}.json", batch.model_dump())

    def _first_receipt(self, key: str, block_number: int) -> Receipt:
        topics = [None, HexBytes(key)]
        for event in self.client.logs(self.registry, topics, block_number, block_number):
            receipt = self.client.receipt(event.tx_hash)
            if receipt is not None:
                return receipt
        raise VerificationError(f"{key} is recorded in block {block_number} but no event shows it")

    def write_certificates(self, batch: StampBatch, receipt: Receipt) -> StampResult:
        """Certificates from a receipt: only what the chain holds goes into them."""
        stamper, block_number, _ = self.client.call(self.registry.functions.recordOf(HexBytes(batch.root)))
        if block_number != receipt.block_number:
            raise VerificationError(f"the chain records {batch.root} in block {block_number}, "
                                    f"not in block {receipt.block_number} of {receipt.tx_hash}")
        anchor = Anchor(
            chain_id=self.client.chain_id, contract=self.registry.address, tx_hash=receipt.tx_hash,
            block_number=receipt.block_number, block_hash=receipt.block_hash,
            block_time=self.client.block_time(receipt.block_number), stamper=stamper,
        )
        return issue_certificates(batch, anchor)

    def refresh_certificates(self, moved: Iterable[Receipt]) -> list[Certificate]:
        """Rewrite the certificates of stamps whose transaction landed in another block."""
        refreshed: list[Certificate] = []
        for receipt in moved:
            for event in self.client.events(self.registry, receipt):
                key = event.args.get("root")
                archived = self.archive_dir / f"{key}.json"
                if archived.exists():
                    batch = StampBatch.model_validate_json(archived.read_text())
                    refreshed.extend(self.write_certificates(batch, receipt).certificates)
        return refreshed

    # -- verifying ---------------------------------------------------------------

    def verify(self, file: Path, cert: Certificate) -> Verified:
        """Check a certificate against its file and this chain; VerificationError says what fails."""
        check_certificate_offline(cert, file)
        return self._verify_on_chain(cert, str(file))

    def check(self, pairs: Sequence[tuple[bytes, Certificate]]) -> list[Verified | LedgerError]:
        """A :data:`~ledger.timestamps.verification.Checker` on this chain: each (digest, certificate)
        pair verified, or the error that says why not (an unavailable chain still raises). Finality is
        judged against one look at the head for the whole set."""
        results: list[Verified | LedgerError] = []
        head = self.client.rpc_batch(self.client.finality_calls()) if pairs else []
        for digest, cert in pairs:
            try:
                check_certificate_digest(cert, digest)
                results.append(self._verify_on_chain(cert, cert.file_name, head))
            except ValidationError as exc:
                results.append(exc)
        return results

    def verify_chain(self, cert: Certificate) -> list[Verified]:
        """Every stamp of ``cert``'s version chain checked on its own, first version first, ``cert`` last:
        its leaf opens with its own digest, author and salt and its proof leads to its root (offline),
        and its root stands on this chain as it says. The links were checked when the certificate was
        read (each revision's salt opens to the stamp before). The files of earlier versions are not
        needed; a VerificationError names the first stamp that does not hold."""
        checked = []
        for version, link in enumerate(cert.chain(), start=1):
            try:
                check_certificate_digest(link, bytes.fromhex(link.digest[2:]), link.file_name)
                checked.append(self._verify_on_chain(link, link.file_name))
            except VerificationError as exc:
                raise VerificationError(f"version {version} of the chain ({link.file_name}, root {link.root}) "
                                        f"does not hold: {exc.message}") from None
        return checked

    def verify_digest(self, digest: bytes, cert: Certificate) -> Verified:
        """As :meth:`verify`, for a file hashed elsewhere (the API's browser page hashes locally)."""
        check_certificate_digest(cert, digest)
        return self._verify_on_chain(cert, cert.file_name)

    def record(self, key: bytes) -> dict[str, object]:
        """The first record of a certificate's root (a single stamp's is ``keccak256(leaf)``; a legacy
        single stamp's is its leaf), with the transaction that made it."""
        stamper, block_number, block_time = self.client.call(self.registry.functions.recordOf(key))
        if stamper == ZERO_ADDRESS:
            raise NotFoundError(f"0x{key.hex()} was never stamped on chain {self.client.chain_id}")
        events = self.client.logs(self.registry, [None, HexBytes(key)], block_number, block_number)
        return {
            "key": "0x" + key.hex(), "stamper": stamper, "block_number": block_number, "block_time": block_time,
            "tx_hash": events[0].tx_hash if events else None,
            "block_hash": events[0].block_hash if events else None,
            "batch_size": int(events[0].args.get("count", 1)) if events else 1,
            "contract": self.registry.address, "chain_id": self.client.chain_id,
        }

    def _verify_on_chain(self, cert: Certificate, file: str, head: Sequence[Any] | None = None) -> Verified:
        if cert.chain_id != self.client.chain_id:
            raise VerificationError(**messages.notice("certificate-other-chain", chain=cert.chain_id,
                                                      this=self.client.chain_id))
        if to_checksum_address(cert.contract) not in self.known:
            raise VerificationError(**messages.notice("certificate-other-contract", contract=cert.contract,
                                                      registry=self.registry.address))
        registry = self.client.contract(cast(Any, self.registry.abi), cert.contract)
        key = anchor_key(cert)
        stamper, block_number, block_time = self.client.call(registry.functions.recordOf(key))
        if stamper == ZERO_ADDRESS:
            raise VerificationError(**messages.notice("certificate-never-stamped", root=cert.root,
                                                      chain=self.client.chain_id))
        if not cert.is_legacy and not self.client.call(
            registry.functions.verifyBatchMember(
                [HexBytes(p) for p in cert.proof], key, HexBytes(cert.leaf))
        ):
            raise VerificationError(**messages.notice("certificate-proof-rejected"))
        if block_number != cert.block_number or block_time != cert.block_time or stamper != cert.stamper:
            raise VerificationError(**messages.notice(
                "certificate-out-of-date", block=cert.block_number, stamper=cert.stamper, root=cert.root,
                recorded=block_number, recorder=stamper))
        if self.client.block_hash(cert.block_number) != cert.block_hash:
            raise VerificationError(**messages.notice("certificate-block-hash", block=cert.block_number,
                                                      hash=cert.block_hash))
        receipt = self.client.receipt(cert.tx_hash)
        if receipt is None or receipt.block_hash != cert.block_hash or not any(
            e.args.get("root") == cert.root  # Stamped(root) and BatchStamped(root); a legacy Stamped's root is the leaf
            for e in self.client.events(registry, receipt)
        ):
            raise VerificationError(**messages.notice("certificate-transaction", tx_hash=cert.tx_hash,
                                                      root=cert.root))
        check_authorship(cert)  # the stamper is the chain's: the author sent it, or signed what was sent
        return Verified(
            file=file,
            author=cert.author,
            stamper=stamper,
            chain_id=cert.chain_id,
            block_number=block_number,
            block_time=block_time,
            block_time_iso=cert.block_time_iso,
            tx_hash=cert.tx_hash,
            digest=cert.digest,
            batch_size=cert.batch_size,
            finality=self.client.finality_of(block_number, head) if head else self.client.finality(block_number),
        )


def _standing(
    earlier: Sequence[Path], digest: str, author: str, anchored: Anchored
) -> tuple[Path, Certificate] | None:
    """The earliest certificate among ``earlier`` for this content and author that stands on chain."""
    found: list[tuple[int, Path, Certificate]] = []
    for path in earlier:
        try:
            cert = Certificate.load(path)
        except ValidationError:
            continue  # not ours to judge here; it is left alone all the same
        if cert.digest == digest and cert.author == author and _proves_author(cert) and anchored(cert):
            found.append((cert.block_number, path, cert))
    if not found:
        return None
    _, path, cert = min(found, key=lambda item: item[0])
    return path, cert


def _proves_author(cert: Certificate) -> bool:
    """Only a certificate that proves its author stands for a file: one naming us without our signature
    (anyone can make one) must not stop us from stamping."""
    try:
        check_authorship(cert)
    except VerificationError:
        return False
    return True


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()
