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

    api_max_body_bytes: int = 1_000_000
    """Larger request bodies are refused with 413."""

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

    api_max_batch: int = 1000
    """Most items one API request may carry (certificates to verify, ...)."""

    project_root: Path = PROJECT_ROOT
    """Where contracts/, node_modules/ and scripts/solc live."""

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
