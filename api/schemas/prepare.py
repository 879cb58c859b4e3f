"""``/relay/prepare``: an act and its arguments in, EIP-712 typed data ready to sign out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.chain import ForwarderDomain
from api.schemas.common import ADDRESS, EXAMPLE_ADDRESS


class PrepareCreate(BaseModel):
    """The act to prepare: ``contract.function(args)`` signed by ``from``.

    ``function`` is a name (``register``) or, when the name is overloaded, a signature
    (``safeTransferFrom(address,address,uint256)``). ``args`` by name (an object) or in order (a
    list), in the values people type: kinds and statuses by label (``invention-patent``) or number,
    dates as ``2027-06-30`` / ISO date-times / Unix seconds, official numbers, territories and
    currencies as text, hashes as ``0x`` + 64 hex digits, addresses checksummed (EIP-55) or all
    lower case, amounts as integers of units (or decimal strings).
    """

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": EXAMPLE_ADDRESS, "contract": "IPRegistry", "function": "register",
            "args": {
                "contentHash": "0x5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
                "kind": "invention-patent", "ref": "CN202010123456.7",
                "metadataHash": "0xfcdc6c5bf08cb35ef3661d779c6cce728fcbf766bb50b4dd9ddf3176e58fcd23",
                "uri": "ipledger:metadata/0xfcdc6c5bf08cb35ef3661d779c6cce728fcbf766bb50b4dd9ddf3176e58fcd23",
            },
        }, {
            "from": EXAMPLE_ADDRESS, "contract": "PledgeRegistry", "function": "propose",
            "args": [1, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", 5000000, "CNY", "2027-06-30", None],
        }]},
    )

    sender: str = Field(alias="from", pattern=ADDRESS, description="the signer: the account that acts")
    contract: str = Field(min_length=1, max_length=64, description="a contract name from GET /chain/contracts")
    function: str = Field(min_length=1, max_length=512)
    args: dict[str, Any] | list[Any] | None = None
    valid_for: int = Field(600, ge=60, le=86_400, description="seconds until the request's deadline")


class ForwardMessage(BaseModel):
    """The ``ForwardRequest`` message: sign it as is, then post it with ``signature`` to POST /relay."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from")
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: str


class PreparedPublic(BaseModel):
    """EIP-712 typed data for ethers (``wallet.signTypedData(domain, types, message)``) and viem;
    ``typed_data`` is the same document with ``EIP712Domain`` for ``eth_signTypedData_v4``."""

    domain: ForwarderDomain
    types: dict[str, list[dict[str, str]]]
    primaryType: str
    message: ForwardMessage
    contract: str
    function: str = Field(description="the function's signature")
    arguments: dict[str, Any] = Field(description="the arguments as encoded in the calldata")
    gas_estimate: int = Field(description="the call's gas as estimated now; message.gas adds a margin")
    typed_data: dict[str, Any]
