"""``ipledger keys ...``, ``ipledger seal`` and ``ipledger unseal``: sealed documents from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.shell import ApiOption, JsonOption, ledger, out, print_json, prompt_password
from ledger.errors import ValidationError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ledger.client.api import ApiClient
    from ledger.sealing.format import Header, Recipient
    from ledger.sealing.service import Match

keys_app = typer.Typer(help="Encryption keys of accounts (the on-chain KeyDirectory).", no_args_is_help=True)


def _print_key(data: dict[str, object], as_json: bool, verb: str = "") -> None:
    if as_json:
        print_json(data)
        return
    state = "revoked" if data["revoked"] else "active"
    pq = "X25519 + ML-KEM-768+X25519" if data["hybrid"] else "X25519 only"
    out.print(f"{verb}{data['address']} key version {data['version']} ({pq}), {state}, published "
              f"{data['published_at']}", highlight=False)


@keys_app.command("publish")
def keys_publish(as_json: JsonOption = False) -> None:
    """Publish your encryption keys (derived from your account key) in the KeyDirectory."""
    with ledger() as opened:
        result, key = opened.sealing.publish(opened.client.signer())
    _print_key({**key.as_json(), "tx_hash": result.tx_hash}, as_json, "Published: ")


@keys_app.command("rotate")
def keys_rotate(as_json: JsonOption = False) -> None:
    """Publish your next key version; earlier versions still open the files sealed to them."""
    with ledger() as opened:
        result, key = opened.sealing.publish(opened.client.signer(), rotate=True)
    _print_key({**key.as_json(), "tx_hash": result.tx_hash}, as_json, "Rotated: ")


@keys_app.command("revoke")
def keys_revoke(
    version: Annotated[int | None, typer.Option("--version", min=1, help="The version (default: the latest).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key version: nothing more is sealed to it (publish a new one with `keys rotate`)."""
    with ledger() as opened:
        signer = opened.client.signer()
        result = opened.sealing.revoke(signer, version)
        key = opened.sealing.key_of(signer.address, version)
    _print_key({**key.as_json(), "tx_hash": result.tx_hash}, as_json, "Revoked: ")


@keys_app.command("show")
def keys_show(
    address: Annotated[str, typer.Argument(help="The account's address.")],
    version: Annotated[int | None, typer.Option("--version", min=1, help="The version (default: the latest).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Show an account's published encryption key."""
    with ledger(need_account=False) as opened:
        key = opened.sealing.key_of(address, version)
    _print_key(key.as_json(), as_json)


def seal(
    file: Annotated[Path, typer.Argument(help="The file to seal.", exists=True, dir_okay=False)],
    to: Annotated[list[str], typer.Option("--to", help="A recipient's address (repeat for more).")],
    pq: Annotated[bool, typer.Option("--pq", help="Wrap the key with the ML-KEM-768+X25519 hybrid KEM "
                                                  "(post-quantum) instead of X25519.")] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The sealed file (default FILE.sealed).")]
    = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Encrypt FILE once and wrap its key for each recipient's published key (HPKE); docs/sealed-format.md.
    With --api the sealed file is also stored on that server (ciphertext only) for the recipients to fetch."""
    target = output or file.with_name(file.name + ".sealed")
    if target.exists():
        # a sealed file may carry recipients `disclose` added since: sealing again over it would lose them
        raise ValidationError(f"{target} already exists (it may carry recipients added by `ipledger disclose`): "
                              "name another file with -o, or remove it first")
    if api is not None:
        from ledger.sealing.directory import published_from_json
        from ledger.sealing.service import Sealed, recipients_of
        from ledger.sealing.stream import seal_file

        client = _client(api)
        account = _account(required=False)
        tos = recipients_of(to, lambda a: published_from_json(client.encryption_key(a)), pq=pq)
        header, entries = seal_file(file, target, tos, sealer=account.address if account else "")
        result = Sealed(target, header, entries)
        uploaded = client.upload_sealed(target)
    else:
        uploaded = None
        with ledger(need_account=False) as opened:
            sealer = opened.client.account.address if opened.client.account else ""
            result = opened.sealing.seal(file, to, target, pq=pq, sealer=sealer)
    if as_json:
        print_json({**result.as_json(), "sealed_id": uploaded["sealed_id"] if uploaded else None})
        return
    out.print(f"Sealed {file} to {len(result.recipients)} recipient(s) -> {target} "
              f"(document 0x{result.header.document_id.hex()}, plaintext SHA-256 0x{result.header.plaintext_sha256})",
              highlight=False)
    if uploaded:
        out.print(f"Stored on {api} as {uploaded['sealed_id']}", highlight=False)


def _client(api: str) -> ApiClient:
    from ledger.client.api import ApiClient

    return ApiClient(api)


def _account(required: bool = True) -> LocalAccount | None:
    from ledger.context import resolve_account
    from ledger.settings import get_settings

    account = resolve_account(get_settings(), embedded=False, prompt=prompt_password, notices=[])
    if account is None and required:
        raise ValidationError("acting through the API needs your account: `ipledger account new`")
    return account


def unseal(
    sealed: Annotated[str, typer.Argument(help="The sealed file, or with --api a sealed id (0x...) on that server.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the opened file.")],
    certificate: Annotated[Path | None, typer.Option(
        "--certificate", help="The stamp certificate (FILE.ipledger.json) of the document, when its record on the "
                              "ledger is a stamp.")] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Open a sealed file with your key; only if its SHA-256 is a record of the ledger (an asset's content, a
    pledge's loan contract, a stamp with --certificate): refused otherwise, with nothing written."""
    if output.exists() and output.is_dir():
        raise ValidationError(f"{output} is a folder; -o names the file to write")
    cert = None
    if certificate is not None:
        from ledger.timestamps.proofs import Certificate

        cert = Certificate.load(certificate)
    if api is not None:
        if cert is not None:
            raise ValidationError("--certificate is checked against the local ledger, not through --api")
        header, found = _unseal_via_api(api, sealed, output)
    else:
        with ledger() as opened:
            header, found = opened.sealing.open(Path(sealed), output, opened.client.signer(), certificate=cert)
    data = {"output": str(output), "plaintext_sha256": "0x" + header.plaintext_sha256,
            "document_id": "0x" + header.document_id.hex(), "matches": [m.as_json() for m in found]}
    if as_json:
        print_json(data)
        return
    out.print(f"Opened {sealed} -> {output}: SHA-256 0x{header.plaintext_sha256} is "
              + "; ".join(m.detail for m in found), highlight=False)


def _unseal_via_api(api: str, sealed_id: str, output: Path) -> tuple[Header, list[Match]]:
    import tempfile

    from ledger.errors import VerificationError
    from ledger.sealing.keys import AccountKeys
    from ledger.sealing.service import Match
    from ledger.sealing.stream import open_file

    _check_sealed_id(sealed_id)
    client = _client(api)
    account = _account()
    assert account is not None
    info = client.sealed_info(sealed_id)
    found = [Match(str(m["kind"]), int(m["id"]), str(m["detail"])) for m in info.get("matches") or []]
    if not found:
        raise VerificationError(
            f"the sealed document's SHA-256 {info['plaintext_sha256']} is not recorded on this ledger (no asset's "
            "content, no pledge's loan contract): it is not a document the chain names")
    key = bytes(account.key)
    with tempfile.TemporaryDirectory() as work:
        local = Path(work) / "download.sealed"
        client.download_sealed(sealed_id, local)
        header = open_file(local, output, account.address, lambda v: AccountKeys.derive(key, v))
    if "0x" + header.plaintext_sha256 != info["plaintext_sha256"]:
        output.unlink(missing_ok=True)
        raise VerificationError("the server's sealed file is not the document it described")
    return header, found


def disclose(
    sealed: Annotated[str, typer.Argument(help="The sealed file, or with --api a sealed id (0x...) on that server.")],
    to: Annotated[list[str], typer.Option("--to", help="A new recipient's address (repeat for more).")],
    pq: Annotated[bool, typer.Option("--pq", help="Wrap with the ML-KEM-768+X25519 hybrid KEM.")] = False,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write the sealed file with the new recipients here (default: in place).")] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Give more accounts access to a sealed document you can open: only its key is wrapped again (the payload
    is unchanged), and the disclosure is recorded on chain (KeyDirectory's DocumentDisclosed)."""
    if api is not None:
        added, header, tx = _disclose_via_api(api, sealed, to, pq)
        where = f"{api} ({sealed})"
    else:
        from ledger.sealing.stream import read_header

        path = Path(sealed)
        with ledger() as opened:
            signer = opened.client.signer()
            added = opened.sealing.add_recipients(path, output or path, signer, to, pq=pq)
            header, _ = read_header(output or path)
            tx = opened.sealing.disclose(header, [a.address for a in added], signer).tx_hash
        where = str(output or path)
    data = {"recipients_added": [a.address for a in added], "document_id": "0x" + header.document_id.hex(),
            "tx_hash": tx, "sealed": where}
    if as_json:
        print_json(data)
        return
    out.print(f"Disclosed document 0x{header.document_id.hex()} to {', '.join(data['recipients_added'])} in "
              f"{where}; recorded on chain in {tx}", highlight=False)


def _check_sealed_id(sealed_id: str) -> None:
    import re

    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", sealed_id):
        raise ValidationError(f"with --api, name the sealed document by its id on that server (0x and 64 hex "
                              f"digits, as `ipledger sealed list --api URL` shows), not {sealed_id!r}")


def _disclose_via_api(api: str, sealed_id: str, to: list[str], pq: bool) -> tuple[list[Recipient], Header, str]:
    import tempfile

    from ledger.sealing.directory import published_from_json
    from ledger.sealing.keys import AccountKeys
    from ledger.sealing.service import recipients_of
    from ledger.sealing.stream import read_header, rewrap

    _check_sealed_id(sealed_id)
    client = _client(api)
    account = _account()
    assert account is not None
    with tempfile.TemporaryDirectory() as work:
        local = Path(work) / "download.sealed"
        client.download_sealed(sealed_id, local)
        header, recipients = read_header(local)
    key = bytes(account.key)
    tos = recipients_of(to, lambda a: published_from_json(client.encryption_key(a)), pq=pq)
    added = rewrap(header, recipients, account.address, lambda v: AccountKeys.derive(key, v), tos)
    client.add_sealed_recipients(account, sealed_id, added)
    relayed = client.disclose(account, "0x" + header.document_id.hex(), "0x" + header.plaintext_sha256,
                              [a.address for a in added])
    return added, header, str(relayed.get("tx_hash"))


sealed_app = typer.Typer(help="Sealed documents kept by an ipledger API.", no_args_is_help=True)


@sealed_app.command("list")
def sealed_list(
    address: Annotated[str | None, typer.Argument(help="The recipient (default: your account).")] = None,
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """The sealed documents addressed to an account on the API server."""
    if api is None:
        raise ValidationError("sealed documents are listed by an API server: pass --api URL (or IPLEDGER_API_URL)")
    if address is None:
        account = _account()
        assert account is not None
        address = account.address
    listed = _client(api).sealed_for(address)
    if as_json:
        print_json(listed)
        return
    if not listed["data"]:
        out.print(f"No sealed documents for {address}.", highlight=False)
    for doc in listed["data"]:
        out.print(f"{doc['sealed_id']}  {doc['plaintext_size']:>12,} bytes  SHA-256 {doc['plaintext_sha256']}  "
                  f"from {doc['sealer'] or '?'}", highlight=False)


@sealed_app.command("upload")
def sealed_upload(
    sealed: Annotated[Path, typer.Argument(help="The sealed file.", exists=True, dir_okay=False)],
    as_json: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Store a sealed file on the API server (ciphertext only; again is harmless): its recipients list it there."""
    if api is None:
        raise ValidationError("sealed documents are stored by an API server: pass --api URL (or IPLEDGER_API_URL)")
    uploaded = _client(api).upload_sealed(sealed)
    if as_json:
        print_json(uploaded)
        return
    out.print(f"Stored {sealed} on {api} as {uploaded['sealed_id']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``keys``, ``seal`` and ``unseal`` to the ``ipledger`` app."""
    app.add_typer(keys_app, name="keys")
    app.command("seal")(seal)
    app.command("unseal")(unseal)
    app.command("disclose")(disclose)
    app.add_typer(sealed_app, name="sealed")
