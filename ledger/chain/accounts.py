"""The user's keys, as encrypted eth-account (Web3 Secret Storage) keystores.

Keystores live in ``<data_dir>/keystores/<name>.json``; the password comes from
a prompt or ``IPLEDGER_PASSWORD`` and is never written anywhere. Private keys
exist in clear only in memory, while signing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address

from ledger.encoding import parse_address
from ledger.errors import ConfigurationError, NotFoundError, ValidationError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

MIN_PASSWORD_LENGTH = 8
"""The password rule of a new keystore: at least this many characters (any characters)."""


@dataclass(frozen=True)
class KeystoreInfo:
    name: str
    address: str
    path: Path


SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""n, the order of secp256k1's group: a private key is a number from 1 to n - 1."""


def _check_private_key(text: str) -> None:
    """Refuse what is not a private key, saying why without echoing it: 32 bytes as 0x and 64 hex digits,
    a number from 1 to n - 1 (zero, and n or more, are 32 bytes but no key)."""
    digits = text.strip().removeprefix("0x").removeprefix("0X")
    if len(digits) != 64 or not re.fullmatch(r"[0-9a-fA-F]{64}", digits):
        raise ValidationError("not a valid private key: a private key is 32 bytes, 0x and 64 hex digits "
                              f"(got {len(digits)} characters)")
    if not 0 < int(digits, 16) < SECP256K1_ORDER:
        raise ValidationError("not a valid secp256k1 private key: it must be a number from 1 to the curve order "
                              "minus 1 (zero, and the order or more, are not keys)")


class Keystores:
    """The keystore folder of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "keystores"

    def list(self) -> list[KeystoreInfo]:
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                address = to_checksum_address("0x" + json.loads(path.read_text())["address"].removeprefix("0x"))
            except (ValueError, KeyError, TypeError):
                continue  # not a keystore; ignore rather than fail every command
            out.append(KeystoreInfo(path.stem, address, path))
        return out

    def new(self, name: str, password: str, private_key: str | None = None) -> KeystoreInfo:
        """Create (or import, with ``private_key``) an encrypted keystore named ``name``."""
        if not _NAME.match(name):
            raise ValidationError(
                f"bad account name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        path = self.folder / f"{name}.json"
        if path.exists():
            raise ValidationError(f"an account named {name!r} already exists ({path})")
        if private_key:
            _check_private_key(private_key)
        try:
            account = Account.from_key(private_key) if private_key else Account.create()
        except (ValueError, TypeError):  # never echo a key, or part of one
            raise ValidationError("not a valid secp256k1 private key") from None
        if any(info.address == account.address for info in self.list()):
            raise ValidationError(f"{account.address} already has a keystore here")
        encrypted = Account.encrypt(account.key, password)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Created with 0600 from the start: the file is encrypted, but it is still a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(encrypted, fh)
        return KeystoreInfo(name, account.address, path)

    def find(self, name_or_address: str | None) -> KeystoreInfo:
        """The keystore by name or address; with None, the only one (or the one named 'default')."""
        stores = self.list()
        if name_or_address is None:
            if not stores:
                raise NotFoundError("no account yet: create one with `ipledger account new`")
            if len(stores) == 1:
                return stores[0]
            for info in stores:
                if info.name == "default":
                    return info
            names = ", ".join(i.name for i in stores)
            raise ValidationError(f"several accounts ({names}): choose one with --account or IPLEDGER_ACCOUNT")
        for info in stores:
            if info.name == name_or_address:
                return info
        if name_or_address.startswith("0x") and is_hex_address(name_or_address):
            address = parse_address(name_or_address, "the account")  # a wrong checksum is refused, not fixed
            for info in stores:
                if info.address == address:
                    return info
        raise ValidationError(f"no account {name_or_address!r} in {self.folder}")  # a mistyped name: bad input

    def unlock(self, info: KeystoreInfo, password: str) -> LocalAccount:
        try:
            key = Account.decrypt(json.loads(info.path.read_text()), password)
        except ValueError:
            # bad input, like any other mistyped argument: exit 2 in the CLI
            raise ValidationError(f"wrong password for account {info.name} ({info.address})") from None
        except OSError as exc:
            raise ConfigurationError(f"cannot read keystore {info.path}: {exc}") from None
        account: LocalAccount = Account.from_key(key)
        return account
