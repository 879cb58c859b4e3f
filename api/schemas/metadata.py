"""``/metadata``: canonical metadata documents."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from typing_extensions import TypeAliasType

from api.schemas.common import EXAMPLE_METADATA_HASH

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
