"""Deploy the contract suite and keep its manifest (addresses, chain id, deploy block).

The suite is one ordered list, :data:`SUITE`; tests, ``ipledger deploy`` and
``scripts/deploy.py`` all deploy through :func:`deploy_suite`, so what is tested
is what operators deploy. Deploying is idempotent: a manifest whose contracts
are all present on the chain and were built from the same bytecode is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from .chain import ChainClient
from .errors import ConfigurationError, NotFoundError
from .toolchain import Artifact, compile_contracts

ConstructorArgs = Callable[[dict[str, str], str], list[Any]]
"""Given the addresses deployed so far and the deployer, the constructor arguments."""

SUITE: list[tuple[str, ConstructorArgs]] = [
    ("IpledgerForwarder", lambda deployed, admin: []),
    ("TimestampRegistry", lambda deployed, admin: [deployed["IpledgerForwarder"]]),
]


class DeployedContract(BaseModel):
    address: str
    tx_hash: str
    block_number: int
    bytecode_hash: str


class Deployment(BaseModel):
    """The deployment manifest: everything a client needs to find the suite."""

    version: int = 1
    chain_id: int
    genesis_hash: str
    deployer: str
    deploy_block: int
    contracts: dict[str, DeployedContract]

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise NotFoundError(
                f"{name} is not in this deployment; run `ipledger deploy` to deploy the current suite"
            ) from None


def manifest_path(data_dir: Path, chain_id: int) -> Path:
    return data_dir / "deployments" / f"{chain_id}.json"


def load_deployment(path: Path) -> Deployment:
    try:
        return Deployment.model_validate_json(path.read_text())
    except FileNotFoundError:
        raise NotFoundError(f"no deployment manifest at {path}; run `ipledger deploy`") from None
    except PydanticValidationError as exc:
        raise ConfigurationError(f"the deployment manifest {path} is malformed: {exc}") from None


def _bytecode_hash(artifact: Artifact) -> str:
    return hashlib.sha256(artifact.bytecode.encode()).hexdigest()


def _is_current(client: ChainClient, deployment: Deployment, artifacts: dict[str, Artifact]) -> bool:
    if deployment.chain_id != client.chain_id or deployment.genesis_hash != client.genesis_hash:
        return False
    for name, _ in SUITE:
        deployed = deployment.contracts.get(name)
        if deployed is None or deployed.bytecode_hash != _bytecode_hash(artifacts[name]):
            return False
        if not client.code_at(deployed.address):
            return False
    return True


def deploy_suite(
    client: ChainClient,
    manifest: Path | None = None,
    *,
    artifacts: dict[str, Artifact] | None = None,
    sender: LocalAccount | None = None,
) -> Deployment:
    """Deploy every contract of the suite (or reuse a current deployment) and write the manifest."""
    artifacts = artifacts or compile_contracts()
    if manifest is not None and manifest.exists():
        existing = load_deployment(manifest)
        if _is_current(client, existing, artifacts):
            return existing
    signer = client.signer(sender)
    deployer = signer.address
    deployed: dict[str, DeployedContract] = {}
    addresses: dict[str, str] = {}
    for name, args in SUITE:
        receipt = client.deploy(artifacts[name], *args(addresses, deployer), sender=signer)
        assert receipt.contract_address is not None
        addresses[name] = receipt.contract_address
        deployed[name] = DeployedContract(
            address=receipt.contract_address,
            tx_hash=receipt.tx_hash,
            block_number=receipt.block_number,
            bytecode_hash=_bytecode_hash(artifacts[name]),
        )
    deployment = Deployment(
        chain_id=client.chain_id,
        genesis_hash=client.genesis_hash,
        deployer=deployer,
        deploy_block=min(c.block_number for c in deployed.values()),
        contracts=deployed,
    )
    if manifest is not None:
        write_json_atomic(manifest, deployment.model_dump())
    return deployment


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
