"""The one exception tree of ipledger.

Every failure a user can meet is one of these; the CLI maps them to exit codes
and the API to HTTP statuses, each in one place::

    LedgerError
    ├── ValidationError          bad input (a file, a certificate, an argument)
    │   └── VerificationError    a proof or certificate that does not hold
    ├── NotFoundError            no such asset, stamp, account, deployment
    ├── PermissionDeniedError    the caller lacks a role or is not the party
    ├── ConflictError            a rule of the ledger forbids the act now
    ├── ConfigurationError       settings, keystores, toolchain, manifests
    │   └── CompilationError     solc rejected a contract
    ├── DataCorruptedError       stored bytes no longer match their size or hash (a damaged database)
    └── ChainError               talking to the chain went wrong
        ├── ChainUnavailableError    no node at the RPC URL, or it stopped answering
        ├── ChainInconsistentError   the node's blocks do not link, or a reorg the indexer cannot resolve
        ├── HistoryUnavailableError  the node keeps no state of an earlier block (not an archive node)
        ├── FeeCapExceededError      the chain's fees are above the configured cap: nothing was sent
        ├── RelayerFundsLowError     the relayer's balance is below its threshold: it refuses to send
        └── TransactionFailedError   a transaction reverted or never got a receipt

Contract custom errors are decoded in ``ledger.chain`` into ``ContractError``
instances that are *also* one of the classes above (picked by the error's name),
so callers can catch either the domain class or the contract error by name.
"""

from __future__ import annotations

import re
from typing import Any


class LedgerError(Exception):
    """Base of every error ipledger raises on purpose."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ValidationError(LedgerError):
    """The input is malformed or refers to something unusable."""


class VerificationError(ValidationError):
    """A certificate, proof or signature does not verify."""


class NotFoundError(LedgerError):
    """The thing asked for does not exist."""


class PermissionDeniedError(LedgerError):
    """The caller is not allowed to perform this act."""


class ConflictError(LedgerError):
    """A rule of the ledger forbids this act in the current state."""


class ConfigurationError(LedgerError):
    """Settings, keystores, toolchain or deployment are missing or wrong."""


class CompilationError(ConfigurationError):
    """solc rejected a contract; the message carries solc's file:line output."""


class DataCorruptedError(LedgerError):
    """Bytes read back from the database do not match the size or SHA-256 recorded when they were stored."""


class ChainError(LedgerError):
    """Talking to the chain failed."""


class ChainUnavailableError(ChainError):
    """No node answers at the configured RPC URL."""


class ChainInconsistentError(ChainError):
    """The node serves blocks that do not link (a damaged state), or the indexer meets a reorg it
    cannot resolve (the same rollback again and again); following it further would only spin."""


class HistoryUnavailableError(ChainError):
    """The node keeps no state of the block asked for: it prunes old state (not an archive node), or it
    was restarted from a saved state (Anvil's ``--load-state`` keeps only the state of its head). Nothing
    is wrong with what was asked about; an archive node can answer it."""


class FeeCapExceededError(ChainError):
    """The chain's base fee and tip are above ``IPLEDGER_MAX_FEE_PER_GAS``: refused before sending."""


class RelayerFundsLowError(ChainError):
    """The relayer's balance is below ``IPLEDGER_RELAYER_MIN_BALANCE``: it refuses before it runs dry."""


class TransactionFailedError(ChainError):
    """A transaction reverted without a known error, or its receipt never came."""


class ContractError(LedgerError):
    """A decoded contract custom error.

    ``name`` is the Solidity error name (``PledgeRegistryAlreadyPledged``) and
    ``arguments`` its decoded arguments by parameter name. Concrete instances are
    created by :func:`contract_error` so they also inherit the domain class.
    """

    name: str = ""
    arguments: dict[str, Any]

    def __init__(self, message: str, name: str, arguments: dict[str, Any], **context: Any) -> None:
        super().__init__(message, **context)
        self.name = name
        self.arguments = arguments


_DOMAIN_BY_PATTERN: tuple[tuple[re.Pattern[str], type[LedgerError]], ...] = (
    (re.compile(r"Unauthorized|Not(Owner|Pledgee|Licensee|Party|Seller|Buyer|Poster|Authorized|CoOwner\b|Lister)"
                r"|ConsentMissing|Forbidden"
                r"|InsufficientApproval|Invalid(Approver|Operator|Signer)|IncorrectOwner|Untrustful"),
     PermissionDeniedError),
    (re.compile(r"Nonexistent|Unknown|NotFound|NoLicenseConsent|NotCoOwned|NothingToWithdraw"), NotFoundError),
    # "Invalid" but not "Invalidation"/"Invalidated": those are legal states, i.e. conflicts
    (re.compile(r"Invalid(?!at)|Zero|Empty|TooLong|TooMany|Malformed|ExpiredRequest|MismatchedValue|NonCanonical"),
     ValidationError),
)


def contract_error(name: str, args: dict[str, Any], message: str, **context: Any) -> ContractError:
    """Build a ContractError that is also the matching domain error class.

    ``AccessControlUnauthorizedAccount`` becomes a PermissionDeniedError,
    ``ERC721NonexistentToken`` a NotFoundError, everything else that a rule
    raises (already pledged, frozen, overlapping license...) a ConflictError.
    """
    domain: type[LedgerError] = ConflictError
    for pattern, cls in _DOMAIN_BY_PATTERN:
        if pattern.search(name):
            domain = cls
            break
    key = (name, domain)
    if key not in _ERROR_CLASSES:  # one class per error name: the same error is always the same class
        _ERROR_CLASSES[key] = type(f"{name}Error", (ContractError, domain), {})
    return _ERROR_CLASSES[key](message, name=name, arguments=args, **context)


_ERROR_CLASSES: dict[tuple[str, type[LedgerError]], type[ContractError]] = {}
