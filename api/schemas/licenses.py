"""``/licenses``: licenses of an asset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import EXAMPLE_HASH, EXAMPLE_OWNER
from ledger.errors import ValidationError
from ledger.registry.codes import canonical_field, canonical_territory

LICENSE_EXAMPLE: dict[str, Any] = {
    "license_id": 1, "asset_id": 1, "licensor": EXAMPLE_OWNER, "licensee": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "kind": "exclusive", "exclusive": True, "status": "active", "start": 1767225600, "end": 1798761600,
    "starts_on": "2026-01-01T00:00:00Z", "ends_on": "2027-01-01T00:00:00Z", "territory": "CN",
    "field_of_use": "H04L", "terms_hash": EXAMPLE_HASH, "fee": 500000, "sublicensable": False,
    "recordal_no": "2026990000123",
}


class LicensePublic(BaseModel):
    """A license; ``exclusive`` is true for exclusive and sole licenses (they block any overlap)."""

    model_config = ConfigDict(json_schema_extra={"examples": [LICENSE_EXAMPLE]})

    license_id: int
    asset_id: int
    licensor: str
    licensee: str
    kind: str = Field(description="exclusive, sole or non-exclusive")
    exclusive: bool
    status: str = Field(description="offered, active, terminated or expired")
    start: int
    end: int
    starts_on: str | None
    ends_on: str | None
    territory: str = Field(description="ISO 3166 prefix; empty: everywhere")
    field_of_use: str = Field(description="IPC prefix; empty: every field")
    terms_hash: str
    fee: int = Field(description="in token units")
    sublicensable: bool
    recordal_no: str | None


class LicensesPublic(BaseModel):
    data: list[LicensePublic]
    count: int




def _as_value_error(canonical: Callable[[str | None], str]) -> Callable[[str], str]:
    """A pydantic validator from a canonical-code mapper: an unknown code is a 422 naming the input."""
    def validate(text: str) -> str:
        try:
            return canonical(text)
        except ValidationError as exc:
            raise ValueError(exc.message) from exc  # the cause says it in any language
    return validate


Territory = Annotated[str, AfterValidator(_as_value_error(canonical_territory))]
"""A territory in any spelling pycountry knows (CHN, 156, cn, China; WW or empty: the world), as its code."""
FieldOfUse = Annotated[str, AfterValidator(_as_value_error(canonical_field))]
"""An IPC field of use in any case and spacing (h04l, H04L 9/00), as its canonical code."""


class CodesPublic(BaseModel):
    """Canonical licence codes, as the LicenseRegistry accepts them (empty: the world / every field)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"territory": "CN", "field_of_use": "H04L"}]})

    territory: str = Field(description="ISO 3166-1 alpha-2 (CN) or ISO 3166-2 (CN-BJ); empty: the whole world")
    field_of_use: str = Field(description="IPC section, class, subclass or main group (H04L9/00); empty: every field")
