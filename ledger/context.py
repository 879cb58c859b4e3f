"""Open the ledger: the chain (embedded or by URL), the acting account, the deployment.

This is the composition root the CLI, the API and scripts share: it connects,
re-sends anything the chain lost (the journal), refreshes certificates that
moved, deploys on the embedded chain when needed, and builds the services.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.accounts import Keystores
from ledger.chain.client import ChainClient, Contract, Receipt, dev_account
from ledger.chain.deployment import Deployment, deploy_suite, load_deployment, manifest_path
from ledger.chain.devchain import DEV_ADDRESSES, DEV_CHAIN_ID, embedded_chain
from ledger.chain.toolchain import Artifact, compile_contracts
from ledger.errors import LedgerError, ValidationError
from ledger.settings import Settings, get_settings

if TYPE_CHECKING:
    from ledger.audit.queries import AuditService
    from ledger.audit.store import Store
    from ledger.market.service import MarketService
    from ledger.registry.assets import AssetService
    from ledger.registry.check import CheckService
    from ledger.registry.licenses import LicenseService
    from ledger.registry.metadata import MetadataStore
    from ledger.registry.pledges import PledgeService
    from ledger.relay.prepare import RequestPreparer
    from ledger.relay.service import RelayService
    from ledger.timestamps.service import TimestampService

PasswordPrompt = Callable[[str], str]

DEV_FUNDING_WEI = 10_000 * 10**18


@dataclass
class Ledger:
    """Everything a service needs, opened once per command or process."""

    settings: Settings
    client: ChainClient
    deployment: Deployment
    artifacts: dict[str, Artifact]
    embedded: bool
    notices: list[str] = field(default_factory=list)
    restored: list[Receipt] = field(default_factory=list)
    """Journaled transactions the chain had lost, re-sent when the ledger was opened."""

    def __post_init__(self) -> None:
        # contract errors name amounts of tokens as people read them (260 IPST, not 260000000)
        self.client.errors.money = self.money

    def money(self, units: int) -> str:
        """Units of the settlement token with its decimals and symbol (``250.5 IPST``); read once, on
        first use (an error sentence or a listing), and raw units if the token cannot be read."""
        try:
            return self.market.token().format(units)
        except (LedgerError, KeyError):  # no token in this deployment, or the chain does not answer
            return f"{units:,} token units"

    def contract(self, name: str) -> Contract:
        return self.client.contract(self.artifacts[name].abi, self.deployment.address(name))

    @cached_property
    def timestamps(self) -> TimestampService:
        from ledger.timestamps.service import TimestampService

        return TimestampService(
            self.client,
            self.contract("TimestampRegistry"),
            self.settings.data_dir / "stamps",
            earlier=self.deployment.addresses("TimestampRegistry")[1:],
        )

    @cached_property
    def relay(self) -> RelayService:
        from ledger.relay.service import RelayService

        forwarder = self.contract("IpledgerForwarder")
        targets = {
            c.address: self.contract(name) for name, c in self.deployment.contracts.items()
            if name != "IpledgerForwarder"
        }
        return RelayService(self.client, forwarder, targets, self.settings.data_dir / "relay.sqlite",
                            deadline_margin=self.settings.relay_deadline_margin,
                            max_request_gas=self.settings.relay_max_request_gas)

    @cached_property
    def preparer(self) -> RequestPreparer:
        """The suite's ABIs and enums for wallets, and ForwardRequests prepared for them to sign."""
        from ledger.relay.prepare import RequestPreparer

        return RequestPreparer.for_suite(
            self.client, self.deployment.address("IpledgerForwarder"),
            {name: (c.address, self.artifacts[name].abi) for name, c in self.deployment.contracts.items()},
            gas_cap=self.relay.request_gas_cap,
        )

    @cached_property
    def metadata(self) -> MetadataStore:
        from ledger.registry.metadata import MetadataStore

        return MetadataStore(self.settings.data_dir / "metadata")

    @cached_property
    def assets(self) -> AssetService:
        from ledger.registry.assets import AssetService

        return AssetService(self.client, self.contract("IPRegistry"), self.metadata,
                            from_block=self.deployment.contracts["IPRegistry"].block_number)

    @cached_property
    def licenses(self) -> LicenseService:
        from ledger.registry.licenses import LicenseService

        return LicenseService(self.client, self.contract("LicenseRegistry"), self.contract("IPRegistry"))

    @cached_property
    def pledges(self) -> PledgeService:
        from ledger.registry.pledges import PledgeService

        return PledgeService(self.client, self.contract("PledgeRegistry"), self.contract("IPRegistry"))

    @cached_property
    def check(self) -> CheckService:
        from ledger.registry.check import CheckService

        return CheckService(
            self.client, self.contract("IPLens"), self.contract("IPRegistry"), self.contract("LicenseRegistry"),
            self.contract("PledgeRegistry"), self.metadata,
            from_block=self.deployment.contracts["IPRegistry"].block_number,
        )

    @cached_property
    def market(self) -> MarketService:
        from ledger.market.service import MarketService

        return MarketService(
            self.client, self.contract("Marketplace"), self.contract("LicenseMarket"),
            self.contract("SettlementToken"), self.contract("IPRegistry"), self.contract("LicenseRegistry"),
            self.metadata, from_block=self.deployment.contracts["Marketplace"].block_number,
        )

    @cached_property
    def store(self) -> Store:
        """The index database (``IPLEDGER_DB_URL``, or a SQLite file in the data folder), opened and
        migrated on first use; the indexer (``ipledger up`` / ``ipledger index``) keeps it filled."""
        from ledger.audit.store import Store, default_db_url

        return Store(default_db_url(self.settings))

    @cached_property
    def audit(self) -> AuditService:
        """Audit queries over :attr:`store`, for this ledger's chain."""
        from ledger.audit.queries import AuditService

        return AuditService(self.store, self.client.chain_id)

    def after_reconcile(self, moved: list[Receipt]) -> None:
        """Bring files written from re-mined transactions (certificates) up to date."""
        if moved:
            self.timestamps.refresh_certificates(moved)


def resolve_account(
    settings: Settings, *, embedded: bool, prompt: PasswordPrompt | None, notices: list[str]
) -> LocalAccount | None:
    """The acting account: Anvil's development account N (``--dev-account``), a raw key, a keystore,
    or on the embedded chain with no keystore Anvil's development account 0."""
    if settings.dev_account is not None:
        if not 0 <= settings.dev_account < len(DEV_ADDRESSES):
            raise ValidationError(f"--dev-account takes 0 to {len(DEV_ADDRESSES) - 1} (Anvil's development "
                                  f"accounts), not {settings.dev_account}")
        return dev_account(settings.dev_account)
    if settings.private_key is not None:
        try:
            account: LocalAccount = Account.from_key(settings.private_key.get_secret_value())
            return account
        except (ValueError, TypeError):
            raise ValidationError("IPLEDGER_PRIVATE_KEY is not a valid private key") from None
    keystores = Keystores(settings.data_dir)
    if keystores.list() or settings.account:
        info = keystores.find(settings.account)
        if settings.password is not None:
            try:
                return keystores.unlock(info, settings.password.get_secret_value())
            except ValidationError as exc:
                raise ValidationError(f"{exc.message} (the password is IPLEDGER_PASSWORD's)") from None
        if prompt is None:
            raise ValidationError(f"a password is needed for account {info.name}: set IPLEDGER_PASSWORD")
        return keystores.unlock(info, prompt(f"Password for {info.name} ({info.address})"))
    if embedded:
        account = dev_account(0)
        notices.append(
            f"using Anvil's development account {account.address} on the embedded chain; "
            "create your own with `ipledger account new`"
        )
        return account
    return None


def check_dev_account(settings: Settings, client: ChainClient, embedded: bool) -> None:
    """Refuse ``--dev-account`` (public keys) on anything but the embedded chain or a local Anvil."""
    if settings.dev_account is not None and not embedded and client.chain_id != DEV_CHAIN_ID:
        raise ValidationError(
            f"--dev-account acts with Anvil's public development keys: only on the embedded chain or a local "
            f"Anvil (chain {DEV_CHAIN_ID}), not on chain {client.chain_id}; use your keystore (--account)")


@contextlib.contextmanager
def open_ledger(
    settings: Settings | None = None,
    *,
    need_account: bool = True,
    prompt: PasswordPrompt | None = None,
    reconcile: bool = True,
    account: LocalAccount | None = None,
) -> Iterator[Ledger]:
    """Connect to the configured chain and yield a :class:`Ledger` (closed on exit)."""
    settings = settings or get_settings()
    embedded = settings.rpc_url is None
    chain_url: contextlib.AbstractContextManager[str] = (
        embedded_chain(settings.data_dir) if embedded else contextlib.nullcontext(str(settings.rpc_url))
    )
    notices: list[str] = []
    if account is None and need_account:  # first: a wrong password or account is bad input, before any chain
        account = resolve_account(settings, embedded=embedded, prompt=prompt, notices=notices)
    artifacts = compile_contracts()
    with chain_url as url:
        client = ChainClient(
            url,
            account,
            journal_dir=settings.data_dir / "journal",
            receipt_timeout=settings.receipt_timeout,
            error_abis=[a.abi for a in artifacts.values()],
        )
        try:
            check_dev_account(settings, client, embedded)
            moved = client.reconcile() if reconcile else []
            manifest = manifest_path(settings.data_dir, client.chain_id)
            if embedded:
                admin = dev_account(0)
                if account is not None and client.w3.eth.get_balance(account.address) < 10**18:
                    client.rpc("anvil_setBalance", [account.address, hex(DEV_FUNDING_WEI)])
                deployment = deploy_suite(client, manifest, artifacts=artifacts, sender=admin)
            else:
                deployment = load_deployment(manifest)
            ledger = Ledger(settings, client, deployment, artifacts, embedded, notices, restored=moved)
            ledger.after_reconcile(moved)
            yield ledger
        finally:
            client.close()


def data_path(settings: Settings, *parts: str) -> Path:
    return settings.data_dir.joinpath(*parts)
