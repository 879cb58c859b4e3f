"""The user's keys, as encrypted eth-account (Web3 Secret Storage) keystores.

Keystores live in ``<data_dir>/keystores/<name>.json``; the password comes from
a prompt or ``IPLEDGER_PASSWORD`` and is never written anywhere. Private keys
exist in clear only in memory, while signing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address

from ledger.encoding import parse_address
from ledger.errors import ConfigurationError, NotFoundError, ValidationError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

MIN_PASSWORD_LENGTH = 8
"""The password rule of a new keystore: at least this many characters (any characters)."""

MAX_KEYSTORE_BYTES = 64 * 1024
"""A keystore file is about 500 bytes; anything this big is not one (refused before it is parsed)."""

MAX_SCRYPT_MEMORY = 1 << 30
"""The most memory (128 * n * r bytes) an imported keystore's scrypt may ask for: eth-account's own keystores
(n = 2**18, r = 1, p = 8) take 32 MiB, ethers' (n = 2**17, r = 8) 128 MiB; a crafted n = 2**30, r = 8, 1 TiB."""

MAX_PBKDF2_ROUNDS = 10_000_000
"""The most PBKDF2 rounds an imported keystore may ask for (eth-account's default is 1,000,000)."""


@dataclass(frozen=True)
class KeystoreFile:
    """A keystore file read for import, checked as far as it can be without its password."""

    source: Path
    name: str
    address: str
    text: str
    data: dict[str, Any]


def _write_new(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all, mode 0600 (a temp file beside it, then a hard link or, with
    ``replace``, a rename); without ``replace`` an existing ``path`` is refused and left as it is."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # atomic, and never over an existing file
        except FileExistsError:
            raise ValidationError(f"{path} already exists") from None
        except OSError:  # a file system without hard links
            if path.exists():
                raise ValidationError(f"{path} already exists") from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _lower_keys(data: Any) -> Any:
    """The keystore with its keys in lower case, as eth-keyfile reads it (ethers writes ``Crypto``)."""
    if isinstance(data, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in data.items()}
    return data


def _check_v3(data: Any, source: Path) -> str:
    """The address a v3 keystore names (checksummed); :class:`ValidationError` when ``data`` is not one whose key
    this machine can derive in reasonable time and memory."""
    bad = f"{source} is not an Ethereum keystore (Web3 Secret Storage v3, as `ipledger account new` and the /keys " \
          "page write)"
    if not isinstance(data, dict):
        raise ValidationError(bad)
    norm = _lower_keys(data)
    crypto = norm.get("crypto")
    if norm.get("version") != 3 or not isinstance(crypto, dict):
        raise ValidationError(f"{bad}: no version 3 and crypto section")
    if crypto.get("cipher") != "aes-128-ctr" or not all(
            isinstance(crypto.get(k), str) for k in ("ciphertext", "mac")) or not isinstance(
            crypto.get("cipherparams"), dict) or not isinstance(crypto.get("kdfparams"), dict):
        raise ValidationError(f"{bad}: its crypto section is incomplete")
    params = crypto["kdfparams"]
    try:
        if not 32 <= int(params["dklen"]) <= 64:
            raise ValidationError(f"{bad}: its derived key length is out of range")
        if crypto.get("kdf") == "scrypt":
            n, r, p = (int(params[k]) for k in ("n", "r", "p"))
            if n < 2 or r < 1 or p < 1 or 128 * n * r > MAX_SCRYPT_MEMORY or p > 16:
                raise ValidationError(f"{bad}: its scrypt parameters (n={n}, r={r}, p={p}) are out of range")
        elif crypto.get("kdf") == "pbkdf2":
            if not 1 <= int(params["c"]) <= MAX_PBKDF2_ROUNDS:
                raise ValidationError(f"{bad}: its PBKDF2 round count is out of range")
        else:
            raise ValidationError(f"{bad}: unknown key derivation {crypto.get('kdf')!r}")
    except (KeyError, TypeError, ValueError):
        raise ValidationError(f"{bad}: its key derivation parameters are incomplete") from None
    address = norm.get("address")
    if address is None:
        return ""  # optional in the format: the key tells
    if not isinstance(address, str) or not is_hex_address("0x" + address.removeprefix("0x").removeprefix("0X")):
        raise ValidationError(f"{bad}: its address {address!r} is not an address")
    return to_checksum_address("0x" + address.removeprefix("0x").removeprefix("0X"))


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
        if "/" in name_or_address or name_or_address.endswith(".json"):  # a keystore file, named as an account
            raise ValidationError(f"no account {name_or_address!r} in {self.folder}: to use a keystore file, "
                                  "import it first (`ipledger account import FILE --name NAME`), then use --account "
                                  "NAME")
        raise ValidationError(f"no account {name_or_address!r} in {self.folder}")  # a mistyped name: bad input

    def _check_free(self, name: str, address: str) -> None:
        path = self.folder / f"{name}.json"
        if path.exists():
            raise ValidationError(f"an account named {name!r} already exists ({path})")
        for info in self.list():
            if address and info.address == address:
                raise ValidationError(f"{address} already has a keystore here: account {info.name!r} ({info.path})")

    def read_import(self, source: Path, name: str | None = None) -> KeystoreFile:
        """Read a keystore file to import (as ``name``, default the file's name without ``.json``) and check all
        that needs no password: a v3 keystore, a free name, an address not already here."""
        name = name if name is not None else source.stem
        if not _NAME.match(name):
            raise ValidationError(f"bad account name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
                                  + ("" if name != source.stem else "; choose one with --name"))
        try:
            if source.is_dir():
                raise ValidationError(f"{source} is a folder, not a keystore file")
            with source.open("rb") as fh:
                raw = fh.read(MAX_KEYSTORE_BYTES + 1)
        except FileNotFoundError:
            raise ValidationError(f"no such file: {source}") from None
        except OSError as exc:
            raise ValidationError(f"cannot read {source}: {exc.strerror or exc}") from None
        if len(raw) > MAX_KEYSTORE_BYTES:
            raise ValidationError(f"{source} is not an Ethereum keystore: more than {MAX_KEYSTORE_BYTES:,} bytes")
        try:
            text = raw.decode("utf-8")
            data = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ValidationError(f"{source} is not an Ethereum keystore: not JSON") from None
        address = _check_v3(data, source)
        self._check_free(name, address)
        return KeystoreFile(source, name, address, text, data)

    def import_file(self, keystore: KeystoreFile, password: str) -> KeystoreInfo:
        """Keep ``keystore`` (from :meth:`read_import`) once ``password`` opens it, as the file was (with its
        address added if it named none): nothing is written unless it opens to the address it names."""
        try:
            key = Account.decrypt(keystore.data, password)
        except ValueError as exc:
            if str(exc) == "MAC mismatch":
                raise ValidationError(f"wrong password for the keystore {keystore.source}") from None
            raise ValidationError(f"{keystore.source} is not an Ethereum keystore: it does not decrypt "
                                  f"({exc})") from None
        except (KeyError, TypeError, NotImplementedError, AssertionError) as exc:
            raise ValidationError(f"{keystore.source} is not an Ethereum keystore: it does not decrypt "
                                  f"({type(exc).__name__}: {exc})") from None
        try:
            account = Account.from_key(key)
        except (ValueError, TypeError):
            raise ValidationError(f"{keystore.source} holds no valid private key") from None
        if keystore.address and keystore.address != account.address:
            raise ValidationError(f"{keystore.source} names address {keystore.address}, but its key is "
                                  f"{account.address}'s: a damaged or forged keystore")
        self._check_free(keystore.name, account.address)
        # kept as it came (an export gives back the same file), unless it lacks the "address" this folder lists by
        text = keystore.text if isinstance(keystore.data.get("address"), str) else json.dumps(
            {**keystore.data, "address": account.address.removeprefix("0x").lower()})
        path = self.folder / f"{keystore.name}.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_new(path, text.encode("utf-8"))
        except ValidationError:
            raise ValidationError(f"an account named {keystore.name!r} already exists ({path})") from None
        except OSError as exc:
            raise ConfigurationError(f"cannot write keystore {path}: {exc.strerror or exc}") from None
        return KeystoreInfo(keystore.name, account.address, path)

    def export(self, name_or_address: str | None, target: Path, *, force: bool = False) -> KeystoreInfo:
        """Copy a keystore, as stored (encrypted: never the key itself), to ``target`` with mode 0600; an existing
        ``target`` is refused unless ``force``."""
        info = self.find(name_or_address)
        if target.is_dir():
            raise ValidationError(f"{target} is a folder: name the file to write, "
                                  f"e.g. {target / (info.name + '.json')}")
        if not target.parent.is_dir():
            raise ValidationError(f"no folder {target.parent} to write {target.name} in")
        if target.exists() and not force:
            raise ValidationError(f"{target} already exists: choose another file, or --force to replace it")
        try:
            data = info.path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read keystore {info.path}: {exc.strerror or exc}") from None
        try:
            _write_new(target, data, replace=force)
        except ValidationError:
            raise ValidationError(f"{target} already exists: choose another file, or --force to replace it") from None
        except OSError as exc:
            raise ValidationError(f"cannot write {target}: {exc.strerror or exc}") from None
        return info

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
