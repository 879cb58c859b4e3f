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
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.accounts import Keystores
from ledger.chain.client import ChainClient, Contract, Receipt, client_options, dev_account
from ledger.chain.deployment import Deployment, check_deployment, deploy_suite, load_deployment, manifest_path
from ledger.chain.devchain import DEV_ADDRESSES, DEV_CHAIN_ID, embedded_chain, fund
from ledger.chain.toolchain import Artifact, compile_contracts
from ledger.errors import ConfigurationError, LedgerError, ValidationError
from ledger.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ledger.audit.queries import AuditService
    from ledger.audit.store import Store
    from ledger.market.service import MarketService
    from ledger.registry.assets import AssetService
    from ledger.registry.check import CheckService
    from ledger.registry.coowners import CoOwnerService
    from ledger.registry.disputes import DisputeService
    from ledger.registry.licenses import LicenseService
    from ledger.registry.metadata import MetadataStore
    from ledger.registry.pledges import PledgeService
    from ledger.relay.prepare import RequestPreparer
    from ledger.relay.service import RelayService
    from ledger.sealing.service import SealingService
    from ledger.sealing.store import SealedStore
    from ledger.timestamps.aggregator import StampAggregator
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
    shared: Engine | None = None
    """The database API replicas share (journal, nonces, relayed requests, rate limits); None: a
    ledger built by hand over a client without one (tests), whose relay keeps a SQLite file."""

    def __post_init__(self) -> None:
        # contract errors name amounts of tokens as people read them (260 IPST, not 260000000)
        self.client.errors.money = self.money

    @property
    def store_url(self) -> str:
        """The shared database's URL, password masked (for messages)."""
        return self.shared.url.render_as_string(hide_password=True) if self.shared is not None else "(none)"

    def money(self, units: int) -> str:
        """Units of the settlement token with its decimals and symbol (``250.5 IPST``); read once, on
        first use (an error sentence or a listing), and raw units if the token cannot be read."""
        try:
            return self.market.token().format(units)
        except (LedgerError, KeyError):  # no token in this deployment, or the chain does not answer
            return f"{units:,} token units"

    @property
    def public_url(self) -> str:
        """Where people reach the web platform (``IPLEDGER_PUBLIC_URL``, or ``ipledger up``'s address)."""
        from ledger.documents.tokens import public_url_of

        return public_url_of(self.settings, base_uri=self.deployment.base_uri)

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
    def stamp_service(self) -> StampAggregator | None:
        """The stamp service (leaves aggregated into one ``stampBatch`` per round), when this ledger has its
        key (:func:`stamp_service_account`); None otherwise. The API starts and stops it."""
        from ledger.timestamps.aggregator import StampAggregator
        from ledger.timestamps.stampstore import StampStore

        account = stamp_service_account(self.settings, embedded=self.embedded)
        if account is None:
            return None
        registry = self.contract("TimestampRegistry")
        return StampAggregator(
            self.client, registry, StampStore(self.store, self.client.chain_id, registry.address), account,
            round_interval=self.settings.stamp_round_interval, round_max_leaves=self.settings.stamp_round_max_leaves,
            max_leaves_per_request=self.settings.stamp_max_leaves_per_request)

    @cached_property
    def relay(self) -> RelayService:
        from ledger.relay.service import RelayService

        forwarder = self.contract("IpledgerForwarder")
        targets = {
            c.address: self.contract(name) for name, c in self.deployment.contracts.items()
            if name != "IpledgerForwarder"
        }
        state = self.shared if self.shared is not None else self.settings.data_dir / "relay.sqlite"
        return RelayService(self.client, forwarder, targets, state,
                            deadline_margin=self.settings.relay_deadline_margin,
                            max_request_gas=self.settings.relay_max_request_gas,
                            max_in_flight=self.settings.relay_in_flight,
                            min_balance=self.settings.relayer_min_balance)

    @cached_property
    def preparer(self) -> RequestPreparer:
        """The suite's ABIs and enums for wallets, and ForwardRequests prepared for them to sign."""
        from ledger.relay.prepare import RequestPreparer

        return RequestPreparer.for_suite(
            self.client, self.deployment.address("IpledgerForwarder"),
            {name: (c.address, self.artifacts[name].abi) for name, c in self.deployment.contracts.items()},
            gas_cap=self.relay.request_gas_cap, rules=self._prepare_rules(),
        )

    def _prepare_rules(self) -> dict[tuple[str, str], Callable[[dict[str, Any]], None]]:
        """The platform's refusals when a request is prepared, before anyone signs: sales no buyer could
        complete, and offers that could only sit in escrow (an asset under an ownership dispute); and a
        co-owner's act on an asset that does not exist, said so (the contract only knows "not co-owned")."""
        from ledger.registry.disputes import refuse_sale_if_disputed

        registry = self.contract("IPRegistry")

        def refuse(args: dict[str, Any]) -> None:
            refuse_sale_if_disputed(self.client, registry, int(args["assetId"]))

        def refuse_offer(args: dict[str, Any]) -> None:
            refuse_sale_if_disputed(self.client, registry, int(args["assetId"]), offer=True)

        def exists(args: dict[str, Any]) -> None:
            self.client.call(registry.functions.ownerOf(int(args["assetId"])))  # NotFoundError: does not exist

        def co_owned_sale(args: dict[str, Any]) -> None:
            exists(args)
            refuse(args)

        rules: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
            ("CoOwnership", str(fn["name"])): exists for fn in self.artifacts["CoOwnership"].abi
            if fn.get("type") == "function" and fn.get("stateMutability") not in ("view", "pure")
            and any(i.get("name") == "assetId" for i in fn.get("inputs", []))
        } if "CoOwnership" in self.deployment.contracts else {}
        rules.update({("Marketplace", "listAsset"): refuse, ("Marketplace", "answerDemand"): refuse,
                      ("Marketplace", "makeOffer"): refuse_offer, ("CoOwnership", "listAsset"): co_owned_sale})
        return rules

    @cached_property
    def metadata(self) -> MetadataStore:
        from ledger.registry.metadata import MetadataStore

        return MetadataStore(self.shared if self.shared is not None else self.settings.data_dir / "metadata")

    @cached_property
    def assets(self) -> AssetService:
        from ledger.registry.assets import AssetService

        return AssetService(self.client, self.contract("IPRegistry"), self.metadata,
                            from_block=self.deployment.contracts["IPRegistry"].block_number)

    @cached_property
    def disputes(self) -> DisputeService:
        from ledger.registry.disputes import DisputeService

        return DisputeService(self.client, self.contract("IPRegistry"))

    @cached_property
    def coowners(self) -> CoOwnerService:
        from ledger.registry.coowners import CoOwnerService

        return CoOwnerService(
            self.client, self.contract("CoOwnership"), self.contract("IPRegistry"), self.metadata,
            licenses=self.contract("LicenseRegistry"), pledges=self.contract("PledgeRegistry"),
            market=self.contract("Marketplace"), license_market=self.contract("LicenseMarket"),
        )

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
            coownership=self.contract("CoOwnership") if "CoOwnership" in self.deployment.contracts else None,
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
    def sealing(self) -> SealingService:
        """Encryption keys of accounts (the KeyDirectory), sealing and opening documents."""
        from ledger.sealing.directory import KeyDirectory
        from ledger.sealing.service import SealingService

        return SealingService(KeyDirectory(self.client, self.contract("KeyDirectory")), self.assets, self.pledges,
                              self.timestamps)

    @cached_property
    def sealed(self) -> SealedStore:
        """Sealed documents kept by the API (ciphertext only), in the shared database."""
        from ledger.sealing.store import SealedStore

        return SealedStore(self.shared if self.shared is not None else self.settings.data_dir / "sealed",
                           self.settings.sealed_max_bytes)

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


STAMP_SERVICE_DEV_ACCOUNT = 9
"""On the embedded chain the stamp service signs and pays as Anvil's development account 9."""


def stamp_service_account(settings: Settings, *, embedded: bool) -> LocalAccount | None:
    """The stamp service's key: ``IPLEDGER_STAMP_SERVICE_KEY``, or on the embedded chain a development
    account; None when the service is off (``IPLEDGER_STAMP_SERVICE=false``) or has no key."""
    if not settings.stamp_service:
        return None
    if settings.stamp_service_key is not None:
        try:
            account: LocalAccount = Account.from_key(settings.stamp_service_key.get_secret_value())
        except (ValueError, TypeError):
            raise ValidationError("IPLEDGER_STAMP_SERVICE_KEY is not a valid private key") from None
        return account
    return dev_account(STAMP_SERVICE_DEV_ACCOUNT) if embedded else None


def check_dev_account(settings: Settings, client: ChainClient, embedded: bool) -> None:
    """Refuse ``--dev-account`` (public keys) on anything but the embedded chain or a local Anvil."""
    if settings.dev_account is not None and not embedded and client.chain_id != DEV_CHAIN_ID:
        raise ValidationError(
            f"--dev-account acts with Anvil's public development keys: only on the embedded chain or a local "
            f"Anvil (chain {DEV_CHAIN_ID}), not on chain {client.chain_id}; use your keystore (--account)")


def check_chain_id(settings: Settings, client: ChainClient) -> None:
    """Refuse a node that serves another chain than ``IPLEDGER_CHAIN_ID`` names."""
    if settings.chain_id is not None and client.chain_id != settings.chain_id:
        raise ConfigurationError(
            f"the node at {client.rpc_url} serves chain {client.chain_id}, but IPLEDGER_CHAIN_ID is "
            f"{settings.chain_id}: point IPLEDGER_RPC_URL at chain {settings.chain_id} (or change the setting)")


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
    state = shared_store(settings)
    try:
        notices.extend(import_data_folder(settings, state.engine))
    except BaseException:
        state.dispose()
        raise
    with chain_url as url:
        try:
            client = ChainClient(
                url,
                account,
                state=state.engine,
                error_abis=[a.abi for a in artifacts.values()],
                **client_options(settings),
            )
        except BaseException:
            state.dispose()
            raise
        try:
            check_chain_id(settings, client)
            check_dev_account(settings, client, embedded)
            moved = client.reconcile() if reconcile else []
            manifest = settings.deployment or manifest_path(settings.data_dir, client.chain_id)
            if embedded:
                admin = dev_account(0)
                if account is not None and client.w3.eth.get_balance(account.address) < 10**18:
                    fund(url, account.address, DEV_FUNDING_WEI)
                from ledger.documents.tokens import DEFAULT_PUBLIC_URL, token_base_uri

                deployment = deploy_suite(
                    client, manifest, artifacts=artifacts, sender=admin,
                    base_uri=token_base_uri(settings.public_url) if settings.public_url else None,
                    first_base_uri=token_base_uri(DEFAULT_PUBLIC_URL))
            else:
                deployment = load_deployment(manifest)
                check_deployment(client, deployment, source=f"the deployment manifest {manifest}")
            ledger = Ledger(settings, client, deployment, artifacts, embedded, notices, restored=moved,
                            shared=state.engine)
            ledger.after_reconcile(moved)
            yield ledger
        finally:
            client.close()
            state.dispose()


def shared_store(settings: Settings) -> Store:
    """The database API replicas share (``IPLEDGER_DB_URL``, default the SQLite file of the index),
    migrated; on SQLite every commit is on disk before it returns (the journal relies on it)."""
    from ledger.audit.store import Store, default_db_url

    return Store(default_db_url(settings), durable=True, pool_size=20, pre_ping=False)


IMPORTED_FOLDER = "imported-into-database"
"""Where files of an old data folder go once their contents are in the database (kept as a backup)."""


def import_data_folder(settings: Settings, engine: Engine) -> list[str]:
    """Bring what data folders from before kept in files into the shared database, idempotently:
    the transaction journal (``journal/``, first: nothing it holds may be forgotten), metadata
    documents (``metadata/``) and sealed documents (``sealed/``). Each file, once in the database,
    is moved to ``<data_dir>/imported-into-database/`` (same layout), never deleted; uploads a
    stopped replica left half-written are dropped. Returns notices to print."""
    from ledger.chain.blobs import BlobStore
    from ledger.chain.journal import import_journal_files
    from ledger.registry.metadata import MetadataStore
    from ledger.sealing.store import SealedStore

    data, backup = settings.data_dir, settings.data_dir / IMPORTED_FOLDER
    notices = []
    journaled = import_journal_files(engine, data / "journal", backup / "journal")
    if journaled:
        notices.append(f"{journaled} journaled transaction(s) of {data / 'journal'} moved into the database")
    documents = MetadataStore(engine).import_folder(data / "metadata", backup / "metadata")
    if documents:
        notices.append(f"{documents} metadata document(s) of {data / 'metadata'} moved into the database")
    sealed = SealedStore(engine, settings.sealed_max_bytes).import_folder(data / "sealed", backup / "sealed")
    if sealed:
        notices.append(f"{sealed} sealed document(s) of {data / 'sealed'} moved into the database")
    BlobStore(engine).drop_abandoned()
    return notices


def data_path(settings: Settings, *parts: str) -> Path:
    return settings.data_dir.joinpath(*parts)
