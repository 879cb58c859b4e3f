"""Deploy the contract suite and keep its manifest (addresses, chain id, deploy block).

The suite is one ordered list, :data:`SUITE`; tests, ``ipledger deploy`` and
``scripts/deploy.py`` all deploy through :func:`deploy_suite`, so what is tested
is what operators deploy. Deploying is idempotent: a manifest whose contracts
are all present on the chain and were built from the same bytecode is reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ledger.chain.client import ChainClient
from ledger.chain.toolchain import Artifact, compile_contracts
from ledger.errors import ConfigurationError, NotFoundError
from ledger.files import exclusive_lock, write_json_atomic

ConstructorArgs = Callable[[dict[str, str], str, bool], list[Any]]
"""Given the addresses deployed so far, the deployer and whether this is a development deployment,
the constructor arguments."""

SUITE: list[tuple[str, ConstructorArgs]] = [
    ("IpledgerForwarder", lambda deployed, admin, dev: []),
    ("TimestampRegistry", lambda deployed, admin, dev: [deployed["IpledgerForwarder"]]),
    ("IPRegistry", lambda deployed, admin, dev: [deployed["IpledgerForwarder"], admin]),
    ("PledgeRegistry", lambda deployed, admin, dev: [deployed["IpledgerForwarder"], deployed["IPRegistry"]]),
    (
        "LicenseRegistry",
        lambda deployed, admin, dev: [
            deployed["IpledgerForwarder"], deployed["IPRegistry"], deployed["PledgeRegistry"]
        ],
    ),
    (
        "IPLens",
        lambda deployed, admin, dev: [deployed["IPRegistry"], deployed["LicenseRegistry"], deployed["PledgeRegistry"]],
    ),
    # The faucet mints to anyone: on for development deployments only, fixed at construction.
    ("SettlementToken", lambda deployed, admin, dev: [deployed["IpledgerForwarder"], dev]),
    (
        "Marketplace",
        lambda deployed, admin, dev: [
            deployed["IpledgerForwarder"], deployed["IPRegistry"], deployed["PledgeRegistry"]
        ],
    ),
    (
        "LicenseMarket",
        lambda deployed, admin, dev: [
            deployed["IpledgerForwarder"], deployed["IPRegistry"], deployed["PledgeRegistry"],
            deployed["LicenseRegistry"], deployed["Marketplace"],
        ],
    ),
    ("KeyDirectory", lambda deployed, admin, dev: [deployed["IpledgerForwarder"]]),
    # Co-owned assets: each one's vault is the owner toward the registries and the markets above.
    (
        "CoOwnership",
        lambda deployed, admin, dev: [
            deployed["IpledgerForwarder"], deployed["IPRegistry"], deployed["LicenseRegistry"],
            deployed["LicenseMarket"], deployed["Marketplace"], deployed["PledgeRegistry"],
        ],
    ),
]
"""The suite in deployment order. The market needs no wiring: owners approve the Marketplace
(ERC-721 ``approve``) and the LicenseMarket (``LicenseRegistry.setOperator``) themselves, and the
protocol fee starts at zero until the admin sets it (``Marketplace.setFee``)."""

COUPLED: dict[str, list[str]] = {
    "IPRegistry": ["PledgeRegistry", "LicenseRegistry"],
    "PledgeRegistry": ["LicenseRegistry"],
}
"""Contracts wired to a later one by a one-time setter: kept only while that one's code is unchanged.

The IPRegistry obeys exactly one PledgeRegistry, and the PledgeRegistry answers exactly one
LicenseRegistry (its encumbrance versions and licence activations), each fixed once (so no admin
can free pledged assets by rewiring). A LicenseRegistry with new code therefore needs a new
PledgeRegistry, which needs a new IPRegistry, and everything built on the IPRegistry follows
through the constructor arguments.
"""


class DeployedContract(BaseModel):
    address: str
    tx_hash: str
    block_number: int
    bytecode_hash: str
    constructor_args: list[Any] = []


class Deployment(BaseModel):
    """The deployment manifest: everything a client needs to find the suite."""

    version: int = 1
    chain_id: int
    deploy_block_hash: str
    """Identifies the chain: a reset dev chain no longer has this block (genesis hashes of a
    restarted Anvil change, so they cannot serve)."""
    deployer: str
    deploy_block: int
    contracts: dict[str, DeployedContract]
    previous: dict[str, list[DeployedContract]] = {}
    """Contracts replaced by a later deploy: their records (stamps) stay valid evidence."""
    base_uri: str = ""
    """The IPRegistry's base URI as this deployment last set it (``tokenURI(id)`` is it followed by the id)."""

    def addresses(self, name: str) -> list[str]:
        """The current and every earlier address of ``name``."""
        return [self.address(name), *(c.address for c in self.previous.get(name, []))]

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


def check_deployment(client: ChainClient, deployment: Deployment, *, source: str = "the manifest") -> None:
    """Refuse to start on a deployment that is not on the chain the client talks to: another chain id, a
    deploy block the chain does not have (another network, or a reset one), or a contract without code.
    One round trip (a JSON-RPC batch); ``source`` names the manifest in the messages."""
    if deployment.chain_id != client.chain_id:
        raise ConfigurationError(
            f"{source} is for chain {deployment.chain_id}, but the node at {client.rpc_url} serves chain "
            f"{client.chain_id}: point IPLEDGER_RPC_URL at chain {deployment.chain_id}, or use the manifest of chain "
            f"{client.chain_id} (IPLEDGER_DEPLOYMENT, or `ipledger deploy` there)")
    names = list(deployment.contracts)
    answers = client.rpc_batch([
        ("eth_getBlockByNumber", [hex(deployment.deploy_block), False]),
        *(("eth_getCode", [deployment.contracts[n].address, "latest"]) for n in names),
    ])
    block = answers[0]
    found = str(block.get("hash", "")).lower() if isinstance(block, dict) else None
    if found != deployment.deploy_block_hash.lower():
        raise ConfigurationError(
            f"{source} was deployed in block {deployment.deploy_block} ({deployment.deploy_block_hash}), which "
            f"chain {client.chain_id} at {client.rpc_url} does not have ({found or 'no such block'}): another "
            "network with the same chain id, or one that was reset. Deploy there with `ipledger deploy`, or point "
            "IPLEDGER_RPC_URL at the manifest's chain")
    missing = [n for n, code in zip(names, answers[1:], strict=True) if str(code or "0x") in ("0x", "0x0")]
    if missing:
        raise ConfigurationError(
            f"{source} puts " + ", ".join(f"{n} at {deployment.contracts[n].address}" for n in missing)
            + f", but chain {client.chain_id} has no contract there: run `ipledger deploy`, or use this chain's "
            "manifest")


def fingerprint(deployment: Deployment) -> str:
    """What identifies a deployment: its chain, its deploy block and its contracts' addresses."""
    parts = [str(deployment.chain_id), deployment.deploy_block_hash.lower()]
    parts += [f"{name}={c.address.lower()}" for name, c in sorted(deployment.contracts.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _bytecode_hash(artifact: Artifact) -> str:
    return hashlib.sha256(artifact.bytecode.encode()).hexdigest()


def _reusable(client: ChainClient, existing: DeployedContract | None, artifact: Artifact, args: list[Any]) -> bool:
    return (
        existing is not None
        and existing.bytecode_hash == _bytecode_hash(artifact)
        and existing.constructor_args == _jsonable(args)
        and bool(client.code_at(existing.address))
    )


def _same_code(existing: Deployment | None, name: str, artifacts: dict[str, Artifact]) -> bool:
    recorded = existing.contracts.get(name) if existing else None
    return recorded is not None and recorded.bytecode_hash == _bytecode_hash(artifacts[name])


def _wire(
    client: ChainClient,
    artifacts: dict[str, Artifact],
    addresses: dict[str, str],
    admin: str,
    signer: LocalAccount,
    dev_roles: bool,
) -> None:
    """Connect the suite's contracts; each step is sent only if the chain lacks it.

    - the IPRegistry obeys the PledgeRegistry (its enforcement and consents), set once;
    - the PledgeRegistry answers the LicenseRegistry (encumbrance versions, licence consents), set once;
    - with ``dev_roles``, the admin (the deployer) also holds REGISTRAR_ROLE.
    """
    registry = client.contract(artifacts["IPRegistry"].abi, addresses["IPRegistry"])
    wired = client.call(registry.functions.pledgeRegistry())
    if int(wired, 16) == 0:
        client.transact(registry.functions.setPledgeRegistry(addresses["PledgeRegistry"]), sender=signer)
    elif wired.lower() != addresses["PledgeRegistry"].lower():
        raise ConfigurationError(
            f"the IPRegistry at {addresses['IPRegistry']} obeys the PledgeRegistry at {wired}, "
            f"not {addresses['PledgeRegistry']}; deploy a fresh suite"
        )
    pledges = client.contract(artifacts["PledgeRegistry"].abi, addresses["PledgeRegistry"])
    wired = client.call(pledges.functions.licenseRegistry())
    if int(wired, 16) == 0:
        client.transact(pledges.functions.setLicenseRegistry(addresses["LicenseRegistry"]), sender=signer)
    elif wired.lower() != addresses["LicenseRegistry"].lower():
        raise ConfigurationError(
            f"the PledgeRegistry at {addresses['PledgeRegistry']} answers the LicenseRegistry at {wired}, "
            f"not {addresses['LicenseRegistry']}; deploy a fresh suite"
        )
    if dev_roles:
        registrar = client.call(registry.functions.REGISTRAR_ROLE())
        if not client.call(registry.functions.hasRole(registrar, admin)):
            client.transact(registry.functions.grantRole(registrar, admin), sender=signer)


def _jsonable(args: list[Any]) -> list[Any]:
    plain: list[Any] = json.loads(json.dumps(args, default=str))
    return plain


def _followed_to_new_blocks(client: ChainClient, existing: Deployment, manifest: Path) -> Deployment | None:
    """The manifest moved to the blocks where its deploy transactions are now, or None if they are not.

    A chain that lost blocks (a crash before Anvil saved its state) gets the journaled deploy
    transactions again from ``reconcile``: the same signed bytes, so the same contracts at the same
    addresses, only in new blocks. That is the same deployment; deploying afresh would orphan
    every record written to it.
    """
    contracts: dict[str, DeployedContract] = {}
    for name, contract in existing.contracts.items():
        receipt = client.receipt(contract.tx_hash)
        if receipt is None or receipt.contract_address is None or (
            receipt.contract_address.lower() != contract.address.lower()
        ):
            return None
        contracts[name] = contract.model_copy(update={"block_number": receipt.block_number})
    deploy_block = min(c.block_number for c in contracts.values())
    moved = existing.model_copy(update={
        "contracts": contracts, "deploy_block": deploy_block,
        "deploy_block_hash": client.block_hash(deploy_block) or "",
    })
    write_json_atomic(manifest, moved.model_dump())
    return moved


def deploy_suite(
    client: ChainClient,
    manifest: Path | None = None,
    *,
    artifacts: dict[str, Artifact] | None = None,
    sender: LocalAccount | None = None,
    dev_roles: bool = True,
    base_uri: str | None = None,
    first_base_uri: str | None = None,
) -> Deployment:
    """Deploy what the chain lacks of the suite, wire it, and write the manifest.

    Idempotent and incremental: a contract already deployed from the same bytecode with the
    same constructor arguments is kept, so upgrading one contract never orphans the records
    of the others; a replaced contract is kept under ``previous``. Wiring (see :func:`_wire`)
    only sends what the chain does not have yet. ``base_uri`` sets the IPRegistry's token base URI
    when it differs from the one recorded (``first_base_uri``: only when none is recorded, as for a
    new registry). ``dev_roles`` also makes the deployer a
    registrar, and enables the SettlementToken's faucet, for local chains and tests; production
    deployments pass ``False``.
    """
    artifacts = artifacts or compile_contracts()
    if manifest is None:
        return _deploy(client, None, artifacts, sender, dev_roles, base_uri, first_base_uri)
    # One deployer per manifest at a time: `ipledger up` deploying while another command run at once on
    # its chain deploys too would leave two suites, the manifest naming one and certificates the other.
    # The second waits, then finds the first's manifest and reuses it.
    with exclusive_lock(manifest.with_name(f".{manifest.name}.lock")):
        return _deploy(client, manifest, artifacts, sender, dev_roles, base_uri, first_base_uri)


def _deploy(
    client: ChainClient,
    manifest: Path | None,
    artifacts: dict[str, Artifact],
    sender: LocalAccount | None,
    dev_roles: bool,
    base_uri: str | None,
    first_base_uri: str | None,
) -> Deployment:
    """:func:`deploy_suite`'s work, with the manifest's lock held."""
    existing: Deployment | None = None
    if manifest is not None and manifest.exists():
        existing = load_deployment(manifest)
        if existing.chain_id != client.chain_id:
            existing = None  # a manifest of another chain
        elif client.block_hash(existing.deploy_block) != existing.deploy_block_hash:
            existing = _followed_to_new_blocks(client, existing, manifest)  # None: a reset dev chain
    signer = client.signer(sender)
    deployed: dict[str, DeployedContract] = {}
    previous = dict(existing.previous) if existing else {}
    addresses: dict[str, str] = {}
    changed = False
    for name, args_of in SUITE:
        args = args_of(addresses, existing.deployer if existing else signer.address, dev_roles)
        old = existing.contracts.get(name) if existing else None
        if (
            old is not None
            and _reusable(client, old, artifacts[name], args)
            and all(_same_code(existing, other, artifacts) for other in COUPLED.get(name, []))
        ):
            deployed[name] = old
        else:
            receipt = client.deploy(artifacts[name], *args, sender=signer)
            assert receipt.contract_address is not None
            deployed[name] = DeployedContract(
                address=receipt.contract_address,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                bytecode_hash=_bytecode_hash(artifacts[name]),
                constructor_args=_jsonable(args),
            )
            if old is not None and client.code_at(old.address):
                previous[name] = [old, *previous.get(name, [])]
            changed = True
        addresses[name] = deployed[name].address
    _wire(client, artifacts, addresses, existing.deployer if existing else signer.address, signer, dev_roles)
    same_registry = existing is not None and deployed["IPRegistry"] is existing.contracts.get("IPRegistry")
    recorded = existing.base_uri if existing is not None and same_registry else ""
    wanted = base_uri if base_uri is not None else (first_base_uri if not recorded else None)
    if wanted is not None and wanted != recorded:
        registry = client.contract(artifacts["IPRegistry"].abi, addresses["IPRegistry"])
        client.transact(registry.functions.setBaseURI(wanted), sender=signer)
        recorded = wanted
    if existing is not None and not changed:
        if recorded != existing.base_uri:
            existing = existing.model_copy(update={"base_uri": recorded})
            if manifest is not None:
                write_json_atomic(manifest, existing.model_dump())
        return existing
    deploy_block = min(c.block_number for c in deployed.values())
    deployment = Deployment(
        chain_id=client.chain_id,
        deploy_block_hash=client.block_hash(deploy_block) or "",
        deployer=existing.deployer if existing else signer.address,
        deploy_block=deploy_block,
        contracts=deployed,
        previous=previous,
        base_uri=recorded,
    )
    if manifest is not None:
        write_json_atomic(manifest, deployment.model_dump())
    return deployment
