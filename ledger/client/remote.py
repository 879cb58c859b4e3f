"""Acting through the HTTP API instead of the chain: the same acts, signed locally, relayed by the server.

The user's key never leaves this process: each write is an ERC-2771 request signed here
(EIP-712) and relayed by the API's relayer, so the user needs no ether.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ledger.client.api import ApiClient
from ledger.errors import ConflictError, VerificationError
from ledger.settings import Settings
from ledger.timestamps.proofs import Certificate, file_digest
from ledger.timestamps.service import Anchor, StampBatch, TimestampService, issue_certificates, stamp_call_data


def stamp_via_api(api: ApiClient, account: LocalAccount, batch: StampBatch, settings: Settings) -> list[Certificate]:
    """Archive the batch, relay its stamp through the API, and write certificates from the chain's record."""
    TimestampService.archive(settings.data_dir / "stamps", batch)
    registry = api.address("TimestampRegistry")
    try:
        api.relay(account, registry, stamp_call_data(batch), gas=150_000)
    except ConflictError as exc:
        # Stamped first by someone who copied our pending request: it is still our commitment
        # (only our author opens it), so the first record is our evidence.
        problem = exc.context.get("problem", {})
        if problem.get("error") != "TimestampRegistryAlreadyStamped":
            raise
    record = api.get(f"/timestamps/{batch.root}")
    anchor = Anchor(
        chain_id=int(record["chain_id"]), contract=str(record["contract"]), tx_hash=str(record["tx_hash"]),
        block_number=int(record["block_number"]), block_hash=str(record["block_hash"]),
        block_time=int(record["block_time"]), stamper=str(record["stamper"]),
    )
    return issue_certificates(batch, anchor)


def verify_via_api(api: ApiClient, file: Path, cert: Certificate) -> dict[str, object]:
    """Ask the API to verify ``cert`` for ``file`` (hashed here; the file is not sent)."""
    body = {"digest": "0x" + file_digest(file).hex(), "certificate": json.loads(cert.dumps())}
    result: dict[str, object] = api.post("/timestamps/verify", body)
    if not result.get("valid"):
        raise VerificationError(str(result.get("reason")))
    return result
