"""The registry's token base URI as deployments set it: once for a new registry, again only when asked."""

from __future__ import annotations

from pathlib import Path

from ledger.chain.client import ChainClient
from ledger.chain.deployment import deploy_suite, load_deployment
from ledger.chain.toolchain import Artifact
from ledger.documents.tokens import public_url_of, token_base_uri
from ledger.settings import Settings


def base_uris_set(chain: ChainClient, artifacts: dict[str, Artifact], address: str) -> list[str]:
    registry = chain.contract(artifacts["IPRegistry"].abi, address)
    return [e["args"]["baseURI"] for e in registry.events.BaseURISet.get_logs(from_block=0)]


def test_deploy_sets_base_uri_for_a_new_registry_and_changes_it_only_when_asked(
        chain: ChainClient, artifacts: dict[str, Artifact], tmp_path: Path) -> None:
    manifest = tmp_path / "31337.json"
    first = deploy_suite(chain, manifest, artifacts=artifacts, first_base_uri=token_base_uri("http://a:8000"))
    address = first.address("IPRegistry")
    assert first.base_uri == "http://a:8000/api/v1/tokens/"
    again = deploy_suite(chain, manifest, artifacts=artifacts, first_base_uri=token_base_uri("http://b:9000"))
    assert again.base_uri == first.base_uri  # a CLI command on another default does not move it
    moved = deploy_suite(chain, manifest, artifacts=artifacts, base_uri=token_base_uri("https://ip.example.org/"))
    assert moved.base_uri == "https://ip.example.org/api/v1/tokens/" == load_deployment(manifest).base_uri
    deploy_suite(chain, manifest, artifacts=artifacts, base_uri=token_base_uri("https://ip.example.org"))
    assert base_uris_set(chain, artifacts, address) == ["http://a:8000/api/v1/tokens/",
                                                        "https://ip.example.org/api/v1/tokens/"]
    assert public_url_of(Settings(data_dir=tmp_path / "other"), base_uri=moved.base_uri) == "https://ip.example.org"
    assert public_url_of(Settings(public_url="https://x.org/")) == "https://x.org"
    assert public_url_of(Settings(data_dir=tmp_path / "none"), 31337) == "http://127.0.0.1:8000"
