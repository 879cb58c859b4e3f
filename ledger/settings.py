"""Settings from the environment (``IPLEDGER_*``), read once and cached.

Nothing reads settings at import time: call :func:`get_settings` where needed,
so tests can set the environment first and clear the cache.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of ipledger, each overridable by ``IPLEDGER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="IPLEDGER_", extra="ignore")

    rpc_url: str | None = None
    """A JSON-RPC URL. Unset: use the embedded Anvil (the one `ipledger up` runs, or a new one)."""

    data_dir: Path = Path.home() / ".ipledger"
    """Keystores, deployment manifests, the transaction journal, the embedded chain's state."""

    db_url: str | None = None
    """SQLAlchemy URL for the indexer; default a SQLite file in the data folder."""

    deployment: Path | None = None
    """The deployment manifest to serve (``ipledger serve``, API replicas on other machines); default the
    data folder's manifest for the chain (``deployments/<chain id>.json``, which ``ipledger deploy`` writes)."""

    account: str | None = None
    """Address or keystore name of the acting account; default the only/first keystore."""

    password: SecretStr | None = None
    """Keystore password for non-interactive use (CI, services)."""

    dev_account: int | None = None
    """Act as Anvil's development account N (0-9; ``--dev-account N``): on the embedded chain, or a
    local Anvil (chain 31337), only. Account 0 deployed the embedded chain's suite and holds its admin
    and registrar roles. These keys are public: never use them where anything has value."""

    private_key: SecretStr | None = None
    """A raw private key instead of a keystore (operators' scripts, the relayer)."""

    relayer_key: SecretStr | None = None
    """The API relayer's private key (pays gas for users' signed requests). Unset: the acting
    account (on the embedded chain, Anvil's first development account)."""

    public_url: str | None = None
    """The address people reach the web platform at (``https://ip.example.org``): QR codes of
    certificates open its ``/verify`` page, and ``tokenURI`` of assets points under it. Unset: the
    address ``ipledger up`` serves on (``http://127.0.0.1:8000`` by default)."""

    document_timezone: str = "Asia/Shanghai"
    """The local time zone documents (certificates, reports) show beside UTC (an IANA name)."""

    api_max_body_bytes: int = 1_000_000
    """Larger request bodies are refused with 413."""

    sealed_max_bytes: int = 100_000_000
    """The largest sealed document the API stores (``POST /api/v1/sealed``); larger: 413."""

    api_rate_per_second: float = 50.0
    """Sustained signed requests per second per verified sender (burst: twice that); beyond, 429.
    The sender is counted only once its signature verifies, so forged requests cannot use it up."""

    api_client_rate_per_second: float = 200.0
    """Sustained requests to ``POST /relay`` per second per client address (burst: twice that)."""

    api_trusted_proxies: list[str] = []
    """Addresses of reverse proxies whose ``X-Forwarded-For`` names the client. Empty (the
    default): the header is ignored and the TCP peer is the client."""

    relay_deadline_margin: int = 30
    """Seconds a relayed request's deadline must lie beyond now (the later of the wall clock and
    the last block's time), so that it cannot expire between the checks and its block."""

    relay_max_request_gas: int = 2_000_000
    """The most gas a relayed request may ask for (well below a 30M block: one sender cannot crowd
    out a batch); at most half the block's gas limit whatever it is set to. Over it: 400."""

    relay_in_flight: int = 1
    """Relayer transactions that may wait for their block at once (each a batch of requests, consecutive
    nonces). 1 suits an instant-mining dev chain (the next batch gathers what arrived meanwhile); on a
    chain with block times, a few let the relay fill every block."""

    api_max_batch: int = 1000
    """Most items one API request may carry (certificates to verify, ...)."""

    stamp_service: bool = True
    """Run the stamp service (``POST /api/v1/stamps``: leaves aggregated into one ``stampBatch`` per
    round) in the API, when it has a key: ``IPLEDGER_STAMP_SERVICE_KEY``, or on the embedded chain
    Anvil's development account 9."""

    stamp_service_key: SecretStr | None = None
    """The stamp service's private key: it signs pending receipts and pays for each round's
    ``stampBatch`` (it is the ``stamper`` of the certificates). Its address is published at
    ``GET /api/v1/stamps/service``."""

    stamp_round_interval: float = 1.0
    """Seconds between the closes of stamp service rounds (each anchored with one transaction)."""

    stamp_round_max_leaves: int = 10_000
    """A round closes early when it holds this many leaves."""

    stamp_max_leaves_per_request: int = 10_000
    """Most leaves one ``POST /api/v1/stamps`` may carry (more: 400)."""

    stamp_client_leaves_per_second: float = 5_000.0
    """Sustained leaves per second one client address may submit (burst: twice that); beyond, 429."""

    project_root: Path = PROJECT_ROOT
    """Where contracts/, node_modules/ and scripts/solc live: a source checkout. An installed wheel has none of
    them here and uses the contracts compiled into it (``ledger.chain.packaged``)."""

    chain_id: int | None = None
    """The chain id the service must find at ``rpc_url``; another answers a clear error at start
    (unset: the deployment manifest's chain id is still checked against the node's)."""

    max_fee_per_gas: int | None = None
    """The most wei per gas a transaction may offer (EIP-1559 ``maxFeePerGas``). When the chain's base
    fee plus the tip is above it, nothing is sent and the refusal says so (API: 503). Unset: no cap."""

    priority_fee_per_gas: int = 1_000_000_000
    """The tip per gas (EIP-1559 ``maxPriorityFeePerGas``), in wei: 1 gwei; 0 on a free-gas consortium chain."""

    relayer_min_balance: int = 10**17
    """Below this balance (wei; default 0.1 ether) the relayer refuses new requests with 503 and the
    reason, before it runs dry in the middle of a batch. 0: never refuse."""

    finality: str = "auto"
    """How final records are judged: ``auto`` (the chain's ``finalized`` block where it names one, else
    confirmations), ``tag`` (the finalized block only) or ``confirmations``."""

    finality_confirmations: int = 12
    """Confirmations that make a record final where the finalized tag is not used (1 on a BFT chain
    such as Besu with QBFT, whose sealed blocks are final)."""

    index_finalized_only: bool = False
    """The indexer stores only final blocks (see ``finality``): reports from the index then never show a
    record the chain may still drop, at the cost of lagging the head by the finality distance."""

    evm_version: str = "shanghai"
    """The EVM version the contracts are compiled for (paris, shanghai, cancun, prague): the chain's
    hard fork or older. Shanghai, the default, runs on Besu/QBFT, Ganache 7 and every newer chain;
    Cancun and later use transient storage for the markets' reentrancy guard (less gas)."""

    receipt_timeout: float = 120.0
    """Seconds to wait for a transaction receipt before giving up."""

    anvil_state_interval: int = 1
    """Seconds between Anvil's state dumps of the embedded chain."""

    @property
    def contracts_dir(self) -> Path:
        return self.project_root / "contracts"

    @property
    def node_modules(self) -> Path:
        return self.project_root / "node_modules"

    @property
    def cache_dir(self) -> Path:
        return self.project_root / ".cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; ``get_settings.cache_clear()`` in tests)."""
    return Settings()
