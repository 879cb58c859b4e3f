"""Requests any EIP-712 wallet can sign: the suite's ABIs and enums, and prepared ForwardRequests.

A wallet that is not ours (ethers, viem, MetaMask's ``eth_signTypedData_v4``) needs three things
to write to the ledger: the contracts (names, addresses, ABIs), the meaning of the enum numbers,
and the exact EIP-712 typed data the forwarder verifies. :meth:`RequestPreparer.catalogue` gives
the first two; :meth:`RequestPreparer.prepare` turns an act and its arguments, in the values
people type (``"invention-patent"``, ``"2027-06-30"``, ``"CN202010123456.7"``), into the typed
data: OpenZeppelin ``ERC2771Forwarder`` 5.x's domain and ``ForwardRequest`` type, and a message
with the calldata, the sender's forwarder nonce, the gas the call needs (estimated with a
margin, run exactly as the forwarder will run it, so a refused act is reported before anyone
signs) and a deadline. The wallet signs the message and posts it, with ``signature``, to
``POST /relay``; nothing of ours runs on the signer's side.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from ledger import encoding
from ledger.chain.client import ChainClient, revert_data_of
from ledger.encoding import LabelledEnum
from ledger.errors import ChainError, ValidationError
from ledger.messages import notice
from ledger.registry.codes import canonical_field, canonical_territory
from ledger.relay.service import FORWARD_REQUEST_TYPES, domain

ENUMS: tuple[type[LabelledEnum], ...] = (
    encoding.AssetKind, encoding.LegalStatus, encoding.LicenseKind, encoding.LicenseStatus,
    encoding.PledgeStatus, encoding.ListingStatus, encoding.OfferStatus, encoding.DemandStatus,
    encoding.AnswerStatus, encoding.DisputeKind, encoding.DisputeOutcome,
)
"""The contracts' enums, by their Solidity names (``IIPRegistry.AssetKind`` is ``AssetKind``)."""

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
"""The ``EIP712Domain`` fields of the forwarder's domain: ``eth_signTypedData_v4`` wants them in
``types``; ethers and viem derive them from the domain and refuse them in ``types``."""

VALID_FOR_DEFAULT = 600
VALID_FOR_MAX = 86_400
GAS_MARGIN_PERCENT = 25
GAS_MARGIN_FIXED = 10_000

_BYTES32_BY_NAME: dict[str, Callable[[Any], bytes]] = {
    "ref": encoding.encode_ref,
    # licence codes in any spelling people use, as the one the LicenseRegistry accepts (issue 11 item 3)
    "territory": lambda v: encoding.encode_code(canonical_territory(v), "the territory"),
    "fieldOfUse": lambda v: encoding.encode_code(canonical_field(v), "the field of use"),
    "recordalNo": encoding.encode_filing_no,
    "caseRef": encoding.encode_case_ref,
}
"""bytes32 arguments that hold text, by parameter name, with the parser users' input goes through."""
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class ContractInfo:
    """A deployed contract of the suite; ``relayable`` if it trusts the forwarder (ERC-2771)."""

    name: str
    address: str
    abi: list[dict[str, Any]]
    relayable: bool


@dataclass(frozen=True)
class PreparedRequest:
    """EIP-712 typed data of one ForwardRequest, ready to sign, and what it will do."""

    domain: dict[str, Any]
    types: dict[str, list[dict[str, str]]]
    primary_type: str
    message: dict[str, Any]
    contract: str
    function: str
    arguments: dict[str, Any]
    gas_estimate: int

    def typed_data(self) -> dict[str, Any]:
        """The whole document as ``eth_signTypedData_v4`` takes it (``EIP712Domain`` included)."""
        return {"types": {"EIP712Domain": EIP712_DOMAIN_TYPE, **self.types}, "domain": self.domain,
                "primaryType": self.primary_type, "message": self.message}


def enum_tables(abis: Sequence[Sequence[Mapping[str, Any]]] = ()) -> dict[str, dict[str, Any]]:
    """Each enum: its Solidity name (found in ``abis``) and its members as the number on chain, the
    Solidity code name (``InventionPatent``) and the label users type (``invention-patent``)."""
    qualified: dict[str, str] = {}
    for abi in abis:
        for item in abi:
            for internal in _internal_types(item):
                if internal.startswith("enum "):
                    full = internal[5:].split("[")[0]
                    qualified.setdefault(full.rpartition(".")[2], full)
    return {
        cls.__name__: {
            "solidity": qualified.get(cls.__name__, cls.__name__),
            "members": [{"value": int(m), "name": solidity_member(m.name), "label": m.label} for m in cls],
        }
        for cls in ENUMS
    }


def solidity_member(name: str) -> str:
    """The Solidity spelling of an enum member: ``INVENTION_PATENT`` is ``InventionPatent``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _internal_types(item: Mapping[str, Any]) -> list[str]:
    found = []
    for key in ("inputs", "outputs", "components"):
        for child in item.get(key, []) or []:
            if child.get("internalType"):
                found.append(str(child["internalType"]))
            found.extend(_internal_types(child))
    return found


def _type_string(item: Mapping[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_type_string(c) for c in item['components'])}){kind[5:]}"
    return kind


def signature_of(fn: Mapping[str, Any]) -> str:
    return f"{fn['name']}({','.join(_type_string(i) for i in fn.get('inputs', []))})"


def parse_checksummed(value: Any, what: str) -> str:
    """An address typed by a wallet's user: :func:`ledger.encoding.parse_address`, for any JSON value."""
    if not isinstance(value, str):
        raise ValidationError(**notice("address-malformed", what=what, text=repr(value)))
    return encoding.parse_address(value, what)


Rule = Callable[[dict[str, Any]], None]
"""A platform rule on an act: given its arguments by name (as encoded), raises a LedgerError to refuse it."""


class RequestPreparer:
    """The suite as a wallet sees it, and ForwardRequests prepared for a wallet to sign."""

    def __init__(self, client: ChainClient, forwarder: str, contracts: Sequence[ContractInfo],
                 gas_cap: Callable[[], int] | None = None, rules: Mapping[tuple[str, str], Rule] | None = None,
                 ) -> None:
        self.client = client
        self.forwarder = str(to_checksum_address(forwarder))
        self.contracts = {c.name: c for c in contracts}
        self.gas_cap = gas_cap  # the relay's cap per request: a prepared request must not exceed it
        self.rules = dict(rules or {})
        """The platform's own refusals of acts the contracts would record, by (contract, function name): each
        is given the act's arguments by name and raises to refuse it (e.g. a sale of a disputed asset)."""

    @classmethod
    def for_suite(cls, client: ChainClient, forwarder: str,
                  contracts: Mapping[str, tuple[str, list[dict[str, Any]]]],
                  gas_cap: Callable[[], int] | None = None,
                  rules: Mapping[tuple[str, str], Rule] | None = None) -> RequestPreparer:
        """``contracts``: name → (address, ABI); a contract is relayable if it has ``isTrustedForwarder``."""
        infos = []
        for name, (address, abi) in contracts.items():
            relayable = str(to_checksum_address(address)) != to_checksum_address(forwarder) and any(
                i.get("type") == "function" and i.get("name") == "isTrustedForwarder" for i in abi)
            infos.append(ContractInfo(name, str(to_checksum_address(address)), list(abi), relayable))
        return cls(client, forwarder, infos, gas_cap, rules)

    # -- what a wallet needs to know --------------------------------------------------------------

    def domain(self) -> dict[str, Any]:
        return domain(self.client.chain_id, self.forwarder)

    def catalogue(self) -> dict[str, Any]:
        """Chain id, the forwarder's EIP-712 domain and type, every contract's ABI, the enum tables."""
        return {
            "chain_id": self.client.chain_id,
            "forwarder": {"address": self.forwarder, "domain": self.domain(),
                          "types": FORWARD_REQUEST_TYPES, "primaryType": "ForwardRequest"},
            "contracts": [
                {"name": c.name, "address": c.address, "relayable": c.relayable, "abi": c.abi}
                for c in self.contracts.values()
            ],
            "enums": enum_tables([c.abi for c in self.contracts.values()]),
        }

    # -- preparing a request ---------------------------------------------------------------------

    def prepare(
        self,
        sender: str,
        contract: str,
        function: str,
        args: Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        valid_for: int = VALID_FOR_DEFAULT,
    ) -> PreparedRequest:
        """Typed data for ``sender`` to sign: ``contract.function(args)`` through the forwarder.

        ``function`` is a name (``register``) or, for overloaded names, a signature
        (``safeTransferFrom(address,address,uint256)``); ``args`` by name (a mapping) or in order
        (a list). Raises :class:`ValidationError` for bad input, and the contract's own error if
        the call would be refused now.
        """
        sender = parse_checksummed(sender, "the sender (from)")
        if not isinstance(valid_for, int) or isinstance(valid_for, bool) or not 60 <= valid_for <= VALID_FOR_MAX:
            raise ValidationError(f"valid_for must be 60 to {VALID_FOR_MAX} seconds, got {valid_for!r}")
        target = self._contract(contract)
        fn = self._function(target, function)
        signature = signature_of(fn)
        inputs = list(fn.get("inputs", []))
        values = _coerce_arguments(args, inputs, f"{target.name}.{fn['name']}")
        rule = self.rules.get((target.name, str(fn["name"])))
        if rule is not None:  # before the chain is asked: the platform's refusal, not a revert, is the reason
            rule({str(i.get("name") or f"arg{n}"): v for n, (i, v) in enumerate(zip(inputs, values, strict=True))})
        calldata = bytes(keccak(text=signature)[:4]) + abi_encode([_type_string(i) for i in inputs], values)
        nonce, estimate, head_time = self._read(sender, target.address, calldata)
        gas = estimate + estimate * GAS_MARGIN_PERCENT // 100 + GAS_MARGIN_FIXED
        if self.gas_cap is not None:
            cap = self.gas_cap()
            if estimate > cap:
                raise ValidationError(
                    f"{target.name}.{fn['name']} needs about {estimate} gas, over the relay's cap of {cap} per "
                    "request: it cannot be relayed; split it, or send it yourself", gas=estimate, max_gas=cap)
            gas = min(gas, cap)  # the margin never pushes a request that fits over the cap
        deadline = max(int(time.time()), head_time) + valid_for
        message = {
            "from": sender, "to": target.address, "value": 0, "gas": gas, "nonce": nonce,
            "deadline": deadline, "data": HexBytes(calldata).to_0x_hex(),
        }
        arguments = {str(i.get("name") or f"arg{n}"): _plain(v, i)
                     for n, (i, v) in enumerate(zip(inputs, values, strict=True))}
        return PreparedRequest(
            domain=self.domain(), types=FORWARD_REQUEST_TYPES, primary_type="ForwardRequest", message=message,
            contract=target.name, function=signature, arguments=arguments, gas_estimate=estimate,
        )

    def _contract(self, name: str) -> ContractInfo:
        info = self.contracts.get(name)
        if info is None:
            by_address = {c.address.lower(): c for c in self.contracts.values()}
            info = by_address.get(name.lower()) if isinstance(name, str) else None
        if info is None:
            known = ", ".join(c.name for c in self.contracts.values() if c.relayable)
            raise ValidationError(f"unknown contract {name!r}: use one of {known}")
        if not info.relayable:
            raise ValidationError(
                f"{info.name} does not take signed requests (it does not trust the forwarder); "
                "read it with eth_call instead"
            )
        return info

    @staticmethod
    def _function(contract: ContractInfo, function: str) -> dict[str, Any]:
        if not isinstance(function, str) or not function.strip():
            raise ValidationError("function must be a function name or signature, e.g. register")
        wanted = function.replace(" ", "")
        functions = [i for i in contract.abi if i.get("type") == "function"]
        if "(" in wanted:
            matches = [f for f in functions if signature_of(f) == wanted]
        else:
            matches = [f for f in functions if f.get("name") == wanted]
        if not matches:
            writes = sorted({str(f["name"]) for f in functions if f.get("stateMutability") not in ("view", "pure")})
            raise ValidationError(
                f"{contract.name} has no function {function!r}: its acts are {', '.join(writes)}")
        if len(matches) > 1:
            raise ValidationError(
                f"{contract.name}.{wanted} is overloaded: name one of "
                + ", ".join(signature_of(f) for f in matches))
        fn = matches[0]
        if fn.get("stateMutability") in ("view", "pure"):
            raise ValidationError(
                f"{contract.name}.{fn['name']} is a read ({fn['stateMutability']}): call it with eth_call; "
                "only acts are signed and relayed")
        if fn.get("stateMutability") == "payable":
            raise ValidationError(f"{contract.name}.{fn['name']} takes ether; relayed requests carry none")
        return fn

    def _read(self, sender: str, target: str, calldata: bytes) -> tuple[int, int, int]:
        """The sender's forwarder nonce, the call's gas as the forwarder will run it, the head's time:
        one round trip. A call the contract refuses raises the contract's error."""
        nonce_data = keccak(text="nonces(address)")[:4] + bytes(12) + HexBytes(sender)
        inner = {"from": self.forwarder, "to": target,
                 "data": HexBytes(calldata + HexBytes(sender)).to_0x_hex()}
        nonce_r, gas_r, block_r = self.client.rpc_batch([
            ("eth_call", [{"to": self.forwarder, "data": HexBytes(nonce_data).to_0x_hex()}, "latest"]),
            ("eth_estimateGas", [inner, "latest"]),
            ("eth_getBlockByNumber", ["latest", False]),
        ], raw=True)
        for method, response in (("eth_call", nonce_r), ("eth_getBlockByNumber", block_r)):
            if "error" in response:
                raise ChainError(f"{method} failed: {response['error']}")
        if "error" in gas_r:
            error = gas_r["error"]
            data = revert_data_of(error.get("data") if isinstance(error, dict) else None)
            if data is not None:
                raise self.client.errors.decode(data)
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ChainError(f"the call cannot be estimated: {message}")
        return int(nonce_r["result"], 16), int(gas_r["result"], 16), int(block_r["result"]["timestamp"], 16)


# -- arguments: human values to ABI values ------------------------------------------------------------


def _coerce_arguments(args: Mapping[str, Any] | Sequence[Any] | None, inputs: Sequence[Mapping[str, Any]],
                      where: str) -> list[Any]:
    names = [str(i.get("name") or f"arg{n}") for n, i in enumerate(inputs)]
    if args is None:
        args = {}
    if isinstance(args, Mapping):
        unknown = [k for k in args if k not in names]
        if unknown:
            raise ValidationError(
                f"{where} has no argument {unknown[0]!r}: its arguments are {', '.join(names) or 'none'}")
        missing = [n for n in names if n not in args]
        if missing:
            raise ValidationError(
                f"{where} needs the argument {missing[0]!r}: its arguments are {', '.join(names)}")
        ordered = [args[n] for n in names]
    elif isinstance(args, Sequence) and not isinstance(args, (str, bytes)):
        if len(args) != len(inputs):
            raise ValidationError(
                f"{where} takes {len(inputs)} arguments ({', '.join(names) or 'none'}), got {len(args)}")
        ordered = list(args)
    else:
        raise ValidationError(f"the arguments of {where} must be an object (by name) or a list (in order)")
    return [_argument(v, i, where, n) for v, i, n in zip(ordered, inputs, names, strict=True)]


def _argument(value: Any, item: Mapping[str, Any], function: str, name: str) -> Any:
    """One argument, its refusal saying which (``argument-invalid``, translatable when the reason is a notice)."""
    try:
        return _coerce(value, item, f"{function}: argument {name}")
    except ValidationError as exc:
        key = exc.context.get("notice")
        if not isinstance(key, str) or key == "argument-invalid":
            raise
        reason = {"notice": key, "notice_args": exc.context.get("notice_args") or {}}
        raise ValidationError(**notice("argument-invalid", function=function, argument=name, reason=exc.message),
                              notice_reason=reason) from None


def _coerce(value: Any, item: Mapping[str, Any], where: str) -> Any:
    kind = str(item["type"])
    name = str(item.get("name") or "")
    internal = str(item.get("internalType") or "")
    try:
        if kind.endswith("]"):
            base, _, size = kind[:-1].rpartition("[")
            if not isinstance(value, list):
                raise ValidationError(**notice("argument-list", base=base))
            if size and len(value) != int(size):
                raise ValidationError(**notice("argument-size", size=size, count=len(value)))
            inner = {**item, "type": base, "internalType": internal.rpartition("[")[0] or internal}
            return [_coerce(v, inner, f"{where}[{n}]") for n, v in enumerate(value)]
        if kind == "tuple":
            return tuple(_coerce_arguments(value, item["components"], where))
        if kind == "address":
            return parse_checksummed(value, "the address")
        if kind == "bool":
            return _bool(value)
        if kind == "string":
            if not isinstance(value, str):
                raise ValidationError(**notice("argument-string", value=repr(value)))
            return value
        if kind == "bytes":
            return _hex_bytes(value, None)
        if kind.startswith("bytes"):
            return _fixed_bytes(value, int(kind[5:]), name)
        if kind.startswith("uint"):
            return _uint(value, int(kind[4:] or 256), name, internal)
        if kind.startswith("int"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValidationError(**notice("argument-integer", value=repr(value)))
            return value
    except ValidationError as exc:
        if exc.context.get("notice"):
            raise  # said with its place by _argument
        raise ValidationError(f"{where}: {exc.message}") from None
    raise ValidationError(f"{where}: the type {kind} cannot be prepared here")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValidationError(**notice("argument-bool", value=repr(value)))


def _hex_bytes(value: Any, size: int | None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value.strip()):
        raise ValidationError(**notice("argument-hex", value=repr(value)))
    raw = bytes.fromhex(value.strip()[2:])
    if size is not None and len(raw) != size:
        raise ValidationError(**notice("argument-bytes-size", size=size, digits=2 * size, count=len(raw)))
    return raw


def _fixed_bytes(value: Any, size: int, name: str) -> bytes:
    if value is not None and not isinstance(value, str):
        raise ValidationError(**notice("argument-text-or-hex", value=repr(value)))
    if size == 32:
        if isinstance(value, str) and _HEX32.match(value.strip()):
            return bytes.fromhex(value.strip()[2:])
        if name in _BYTES32_BY_NAME:
            return _BYTES32_BY_NAME[name](value)
        if name == "role":
            key = str(value or "").strip().lower().removesuffix("_role").replace("default_", "")
            if key not in encoding.ROLES:
                raise ValidationError(**notice("argument-role", value=repr(value), roles=", ".join(encoding.ROLES)))
            return encoding.ROLES[key]
        return encoding.parse_hash32(value, "the hash")
    if size == 3 and name == "currency" and isinstance(value, str) and not value.startswith("0x"):
        return encoding.encode_currency(value)
    return _hex_bytes(value, size)


def _uint(value: Any, bits: int, name: str, internal: str) -> int:
    if internal.startswith("enum "):
        enum = {cls.__name__: cls for cls in ENUMS}.get(internal[5:].rpartition(".")[2])
        if enum is not None:
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ValidationError(**notice("argument-enum", labels=", ".join(enum.labels()), value=repr(value)))
            by_code = {solidity_member(m.name): m for m in enum}
            if isinstance(value, str) and value.strip() in by_code:  # the Solidity spelling, InventionPatent
                return int(by_code[value.strip()])
            return int(enum.parse(value))
    if bits == 40:  # every uint40 of the suite is a date: start, end, expiry, maturity, until ...
        if isinstance(value, bool) or (value is not None and not isinstance(value, (int, str))):
            raise ValidationError(**notice("argument-date", value=repr(value)))
        return encoding.parse_date(value, "the date")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError(**notice("argument-number", value=repr(value)))
    amount = encoding.parse_amount(value, "the number")
    if amount >= 2**bits:
        raise ValidationError(**notice("argument-too-big", value=repr(value), bits=bits))
    return amount


def _plain(value: Any, item: Mapping[str, Any]) -> Any:
    """An encoded argument as JSON: hex for bytes, labels beside enum numbers, structs as objects."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_plain(v, inner) for v in value]
    if kind == "tuple":
        return {str(c.get("name") or f"arg{n}"): _plain(v, c)
                for n, (c, v) in enumerate(zip(item["components"], value, strict=True))}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    internal = str(item.get("internalType") or "")
    if internal.startswith("enum "):
        enum = {cls.__name__: cls for cls in ENUMS}.get(internal[5:].rpartition(".")[2])
        if enum is not None:
            return {"value": value, "label": enum.label_of(value)}
    return value


__all__ = ["ContractInfo", "EIP712_DOMAIN_TYPE", "ENUMS", "PreparedRequest", "RequestPreparer", "enum_tables",
           "parse_checksummed", "signature_of"]
