"""ERC-721 metadata of an asset: what ``tokenURI(id)`` points wallets and explorers to.

The registry's ``tokenURI(id)`` is its base URI followed by the id; deployments set the base URI to
:func:`token_base_uri` of the public URL, where the API serves :func:`token_metadata`. The JSON
names the asset's ``metadataHash`` and links the metadata document it hashes (``metadata_document``:
``sha256`` of the bytes served there is the hash), so what a wallet shows can be checked on chain.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from ledger.chain.deployment import manifest_path
from ledger.errors import LedgerError, ValidationError
from ledger.registry.assets import AssetView
from ledger.settings import Settings

TOKENS_PATH = "/api/v1/tokens/"
"""Where the API serves ERC-721 metadata: ``<public URL>/api/v1/tokens/<id>``."""
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
"""The address ``ipledger up`` serves on by default."""


def public_url_of(settings: Settings, chain_id: int | None = None, base_uri: str | None = None) -> str:
    """Where people reach the web platform: ``IPLEDGER_PUBLIC_URL``; else what the deployment of
    ``chain_id`` set as the token base URI (``ipledger up`` sets it to the address it serves on);
    else :data:`DEFAULT_PUBLIC_URL`."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if base_uri is None and chain_id is not None:
        from ledger.chain.deployment import load_deployment

        try:
            base_uri = load_deployment(manifest_path(settings.data_dir, chain_id)).base_uri
        except LedgerError:
            base_uri = None
    if base_uri and base_uri.endswith(TOKENS_PATH):
        return base_uri[: -len(TOKENS_PATH)]
    return DEFAULT_PUBLIC_URL


def production_public_url(settings: Settings) -> str:
    """The public URL a production deployment bakes into ``tokenURI``: ``IPLEDGER_PUBLIC_URL``, required.

    A dev default (``http://127.0.0.1:8000``) on a real chain would point every wallet and explorer at
    the viewer's own machine for ever after (the base URI is recorded on chain), so a production deploy
    refuses to guess: the setting must be an absolute http(s) URL whose host is not loopback or unspecified.
    """
    value = (settings.public_url or "").strip()
    if not value:
        raise ValidationError(
            "a production deployment needs IPLEDGER_PUBLIC_URL, the address people reach the web platform at "
            "(e.g. https://ip.example.org): the registry's tokenURI base is recorded on chain from it")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(f"IPLEDGER_PUBLIC_URL={value} is not an absolute http(s) URL (e.g. https://ip.example.org)")
    try:
        local = ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if local:
        raise ValidationError(
            f"IPLEDGER_PUBLIC_URL={value} is this machine's own address: a production deployment records the "
            "tokenURI base on chain, so set IPLEDGER_PUBLIC_URL to the public address of the web platform")
    return value.rstrip("/")


def token_base_uri(public_url: str) -> str:
    """The registry's base URI for ``public_url``: ``tokenURI(id)`` is this followed by the id."""
    return public_url.rstrip("/") + TOKENS_PATH


def token_metadata(view: AssetView, public_url: str) -> dict[str, Any]:
    """ERC-721 metadata JSON (name, description, external_url, attributes) of an asset."""
    base = public_url.rstrip("/")
    asset = view.asset
    registration = view.registration
    ref = registration.ref if registration else ""
    described = (view.metadata or {}).get("description")
    kind_words = asset.kind.label.replace("-", " ")
    attributes: list[dict[str, Any]] = [
        {"trait_type": "kind", "value": asset.kind.label},
        {"trait_type": "status", "value": asset.status.label},
        {"trait_type": "ref", "value": ref},
        {"trait_type": "verified", "value": asset.verified},
        {"trait_type": "frozen", "value": view.frozen},
    ]
    if asset.expires_at:
        attributes.append({"trait_type": "expires", "display_type": "date", "value": asset.expires_at})
    data: dict[str, Any] = {
        "name": view.title or f"IP asset {asset.asset_id}" + (f" ({ref})" if ref else ""),
        "description": described if isinstance(described, str) else
        f"{kind_words[:1].upper()}{kind_words[1:]}{' ' + ref if ref else ''}, {asset.status.label}, "
        f"registered on ipledger as asset {asset.asset_id}",
        "external_url": f"{base}/assets/{asset.asset_id}",
        "attributes": attributes,
    }
    if registration is not None:
        data["metadata_hash"] = registration.metadata_hash
        data["metadata_document"] = f"{base}/api/v1/metadata/{registration.metadata_hash}"
        data["content_hash"] = registration.content_hash
    return data
