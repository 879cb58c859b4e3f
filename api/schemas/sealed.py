"""``/sealed``: sealed documents (ciphertext only) and their recipients."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import ADDRESS, Address


class SealedRecipientPublic(BaseModel):
    address: str
    kem: int = Field(description="HPKE KEM id: 32 (X25519) or 25722 (ML-KEM-768+X25519).")
    key_version: int


class SealedPublic(BaseModel):
    """A stored sealed document: what the header says and who can open it (docs/sealed-format.md)."""

    sealed_id: str = Field(description="SHA-256 of the header and payload bytes: the document's address here.")
    document_id: str = Field(description="SHA-256 of the header: the id of on-chain disclosures.")
    plaintext_sha256: str = Field(description="The value the ledger records (asset content, pledge contract).")
    plaintext_size: int
    sealer: str | None
    record: dict[str, Any] | None
    recipients: list[SealedRecipientPublic]
    size: int = Field(description="The payload's size in bytes.")
    stored_at: int
    matches: list[dict[str, Any]] | None = Field(
        None, description="The ledger records whose hash is the plaintext's (on /sealed/{id}/info).")


class EncryptionKeyPublic(BaseModel):
    """One published key version of an account (hex keys)."""

    address: str
    version: int
    x25519: str
    hybrid: str | None = Field(description="ML-KEM-768 (1184 bytes) || X25519 (32 bytes), or null.")
    published_at: str | None
    revoked: bool
    revoked_at: str | None


class SealedsPublic(BaseModel):
    data: list[SealedPublic]
    count: int


class RecipientEntry(BaseModel):
    """One recipient entry of the sealed format (base64 ``enc`` and ``wrapped_key``)."""

    address: Annotated[Address, Field(pattern=ADDRESS)]
    kem: int
    key_version: int = Field(ge=1)
    enc: str = Field(max_length=4096)
    wrapped_key: str = Field(max_length=1024)


class RecipientsCreate(BaseModel):
    """New wrapped keys for a stored document, signed (EIP-191 personal_sign) by its sealer or a recipient over
    ``ipledger: add recipients to sealed document {sealed_id}\\nentries sha256: 0x{sha256 of the entries as
    canonical JSON}``."""

    entries: list[RecipientEntry] = Field(min_length=1, max_length=100)
    signer: Annotated[Address, Field(pattern=ADDRESS)]
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")
