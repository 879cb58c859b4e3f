"""Acting through the HTTP API instead of the chain: the same acts, signed locally, relayed by the server.

The user's key never leaves this process: each write is an ERC-2771 request signed here
(EIP-712) and relayed by the API's relayer, so the user needs no ether.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from eth_account.signers.local import LocalAccount

from ledger.chain.finality import Finality
from ledger.client.api import ApiClient
from ledger.errors import (
    ConflictError,
    LedgerError,
    NotFoundError,
    TransactionFailedError,
    ValidationError,
    VerificationError,
)
from ledger.settings import Settings
from ledger.timestamps.aggregator import receipt_signer
from ledger.timestamps.proofs import Certificate, sign_authorship
from ledger.timestamps.service import (
    Anchor,
    Anchored,
    StampBatch,
    StampResult,
    TimestampService,
    Verified,
    issue_certificates,
    issue_service_certificates,
    stamp_call_data,
)
from ledger.timestamps.verification import Checker


def anchored_via_api(api: ApiClient) -> Anchored:
    """Whether an earlier certificate stands on the API's chain (one look-up per distinct root)."""
    seen: dict[str, dict[str, Any] | None] = {}

    def anchored(cert: Certificate) -> bool:
        if cert.root not in seen:
            try:
                seen[cert.root] = dict(api.get(f"/timestamps/{cert.root}"))
            except NotFoundError:
                seen[cert.root] = None
        record = seen[cert.root]
        return record is not None and (
            int(record["chain_id"]), str(record["contract"]), int(record["block_number"]),
            int(record["block_time"]), str(record["stamper"]),
        ) == (cert.chain_id, cert.contract, cert.block_number, cert.block_time, cert.stamper)

    return anchored


def stamp_via_api(api: ApiClient, account: LocalAccount, batch: StampBatch, settings: Settings) -> StampResult:
    """Archive the batch, relay its stamp through the API, and write certificates from the chain's record."""
    TimestampService.archive(settings.data_dir / "stamps", batch)
    registry = api.address("TimestampRegistry")
    try:
        api.relay(account, registry, stamp_call_data(batch), gas=150_000)
    except ConflictError as exc:
        # Stamped first by someone who copied our pending request: it is still our commitment
        # (only our author opens it), so the first record is our evidence, with our signature of the root.
        problem = exc.context.get("problem", {})
        if problem.get("error") != "TimestampRegistryAlreadyStamped":
            raise
    record = api.get(f"/timestamps/{batch.root}")
    if str(record["stamper"]) != batch.author and batch.authorship_signature is None:
        batch = batch.model_copy(update={"authorship_signature": sign_authorship(
            account.key, int(record["chain_id"]), str(record["contract"]), batch.root)})
    anchor = Anchor(
        chain_id=int(record["chain_id"]), contract=str(record["contract"]), tx_hash=str(record["tx_hash"]),
        block_number=int(record["block_number"]), block_hash=str(record["block_hash"]),
        block_time=int(record["block_time"]), stamper=str(record["stamper"]),
    )
    return issue_certificates(batch, anchor)


def _finality(data: Any) -> Finality | None:
    """The API's finality of a record (None from an API that does not say it)."""
    if not isinstance(data, dict):
        return None
    return Finality(int(data["block_number"]), int(data["head"]), int(data["required_confirmations"]),
                    None if data.get("finalized_block") is None else int(data["finalized_block"]))


def sign_service_batch(api: ApiClient, batch: StampBatch, account: LocalAccount) -> StampBatch:
    """``batch`` with its author's signature of ``Authorship(root)`` in the domain of the service's chain and
    TimestampRegistry: the service sends the stamp, so this signature is what proves the author."""
    if account.address != batch.author:
        raise ValidationError(f"the batch's author is {batch.author}, not the signing account {account.address}")
    domain = api.get("/stamps/service")["domain"]
    signature = sign_authorship(account.key, int(domain["chainId"]), str(domain["verifyingContract"]), batch.root)
    return batch.model_copy(update={"authorship_signature": signature})


def stamp_via_service(api: ApiClient, batch: StampBatch, settings: Settings, *, timeout: float = 300.0,
                      on_receipts: Callable[[list[dict[str, Any]]], None] | None = None) -> StampResult:
    """Stamp a batch through the server's stamp service: archive it (the salts stay here), submit only the
    leaves, check each pending receipt's signature against the service's published address, wait for the
    rounds to be anchored (a long poll per round) and complete each certificate from its proof."""
    service = api.get("/stamps/service")
    if batch.authorship_signature is None:
        raise ValidationError("a batch for the stamp service carries its author's signature (sign_service_batch)")
    TimestampService.archive(settings.data_dir / "stamps", batch)
    leaves = [item.leaf for item in batch.items]
    step = int(service["max_leaves_per_request"])
    receipts: list[dict[str, Any]] = []
    for start in range(0, len(leaves), step):
        receipts.extend(api.post("/stamps", {"leaves": leaves[start:start + step]})["data"])
    for receipt in receipts:
        if receipt_signer(receipt, service["domain"]) != service["address"]:
            raise VerificationError(f"the pending receipt of {receipt['leaf']} is not signed by the stamp service "
                                    f"{service['address']}")
    if on_receipts is not None:
        on_receipts(receipts)
    deadline = time.monotonic() + timeout
    answers: dict[str, dict[str, Any]] = {}
    for leaf in leaves:
        while leaf not in answers:
            left = deadline - time.monotonic()
            answer = api.get(f"/stamps/{leaf}", wait=max(0.0, min(30.0, left)))
            if answer["status"] == "anchored":
                answers[leaf] = answer
            elif left <= 0:
                raise TransactionFailedError(
                    f"the stamp service has not anchored {leaf} after {timeout:.0f}s; its signed receipt "
                    f"promises round {answer['round']}: ask again with GET /api/v1/stamps/{leaf}")
    return issue_service_certificates(batch, [answers[leaf] for leaf in leaves])


def check_via_api(api: ApiClient, chunk: int = 100) -> Checker:
    """A :data:`~ledger.timestamps.verification.Checker` that asks the API (``/timestamps/verify-batch``).

    Only each file's SHA-256 and its certificate travel; the file stays here.
    """

    def check(pairs: Sequence[tuple[bytes, Certificate]]) -> list[Verified | LedgerError]:
        results: list[Verified | LedgerError] = []
        for start in range(0, len(pairs), chunk):
            part = pairs[start:start + chunk]
            body = [{"digest": "0x" + digest.hex(), "certificate": json.loads(cert.dumps())} for digest, cert in part]
            answers = api.post("/timestamps/verify-batch", body)["data"]
            for (_, cert), answer in zip(part, answers, strict=True):
                if not answer.get("valid"):
                    results.append(VerificationError(str(answer.get("reason"))))
                    continue
                results.append(Verified(
                    file=cert.file_name, author=str(answer["author"]), stamper=str(answer["stamper"]),
                    chain_id=int(answer["chain_id"]), block_number=int(answer["block_number"]),
                    block_time=int(answer["block_time"]), block_time_iso=str(answer["block_time_iso"]),
                    tx_hash=str(answer["tx_hash"]), digest=cert.digest, batch_size=cert.batch_size,
                    finality=_finality(answer.get("finality")),
                ))
        return results

    return check
