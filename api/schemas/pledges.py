"""``/pledges``: pledges of an asset."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_BANK, EXAMPLE_HASH, EXAMPLE_OWNER

PLEDGE_EXAMPLE: dict[str, Any] = {
    "pledge_id": 1, "asset_id": 1, "pledgor": EXAMPLE_OWNER, "pledgee": EXAMPLE_BANK, "status": "active",
    "principal": 5000000, "currency": "CNY", "maturity": 1814313600, "matures_on": "2027-06-30T00:00:00Z",
    "contract_hash": EXAMPLE_HASH,
}


class PledgePublic(BaseModel):
    """A pledge: ``principal`` in units of ``currency`` (ISO 4217), ``maturity`` in unix seconds."""

    model_config = ConfigDict(json_schema_extra={"examples": [PLEDGE_EXAMPLE]})

    pledge_id: int
    asset_id: int
    pledgor: str
    pledgee: str
    status: str = Field(description="proposed, active, released, enforced or cancelled")
    principal: int
    currency: str
    maturity: int
    matures_on: str | None
    contract_hash: str
