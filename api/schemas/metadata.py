"""``/metadata``: canonical metadata documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator
from typing_extensions import TypeAliasType

from api.schemas.common import EXAMPLE_METADATA_HASH
from ledger.registry.metadata import check_values

MetadataValue = TypeAliasType(
    "MetadataValue",
    "StrictStr | StrictInt | StrictBool | None | list[MetadataValue] | dict[str, MetadataValue]",
)
"""A JSON value without decimals (canonical bytes must not depend on how a library writes floats)."""


class MetadataCreate(BaseModel):
    """A metadata document: a ``title`` and any other descriptive fields (integers, no decimals).

    Stored as canonical JSON (sorted keys, compact, UTF-8) of at most 64 KiB.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schema": "ipledger.asset-metadata/1", "title": "A method of pledging patents", "kind": "invention-patent",
        "ref": "CN202010123456.7", "inventors": ["Li Wei", "Zhang Min"],
    }]})
    __pydantic_extra__: dict[str, MetadataValue] = Field(init=False)

    title: str = Field(min_length=1, max_length=500, pattern=r"[^ \t\r\n]")

    @model_validator(mode="before")
    @classmethod
    def _ledger_rules_first(cls, data: Any) -> Any:
        """The ledger's rules on the values (depth, integers, keys) before pydantic's: its validation of the
        recursive :data:`MetadataValue` reports an error per union member, per level and per item (a 618-byte
        document nested 300 deep answered 16 MB, 60 KB of decimals 22 MB). A document that breaks one is the
        400 that storing it would give (a ledger error, so not wrapped as pydantic's), and small."""
        if isinstance(data, dict):
            check_values(data)
        return data


class MetadataPublic(BaseModel):
    """A stored metadata document, byte for byte as hashed (``title`` and any other fields)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schema": "ipledger.asset-metadata/1", "title": "A method of pledging patents", "kind": "invention-patent",
    }]})

    title: str


class MetadataStoredPublic(BaseModel):
    """Where a document is kept: put ``hash`` and ``uri`` in the registration."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "hash": EXAMPLE_METADATA_HASH, "uri": f"/metadata/{EXAMPLE_METADATA_HASH}", "size": 118,
    }]})

    hash: str
    uri: str
    size: int
