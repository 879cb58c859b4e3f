"""``ipledger deploy|up|reconcile``: the chain the ledger runs on, its contracts and its journal."""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.cli.shell import JsonOption, dev_note, err, ledger, out, print_json, prompt_password
from ledger.context import open_ledger
from ledger.errors import ConfigurationError, LedgerError, ValidationError
from ledger.settings import get_settings

if TYPE_CHECKING:
    from ledger.chain.devchain import SupervisedChain


def reconcile(as_json: JsonOption = False) -> None:
    """Re-send journaled transactions the chain lost and refresh their certificates."""
    with ledger(need_account=False) as opened:
        moved = opened.client.reconcile()
        refreshed = opened.timestamps.refresh_certificates(moved)
    if as_json:
        print_json({"resent": [r.tx_hash for r in moved], "certificates": len(refreshed)})
        return
    out.print(f"{len(moved)} transactions restored, {len(refreshed)} certificates refreshed.")


# -- chain -------------------------------------------------------------------------


def deploy(
    production: Annotated[bool, typer.Option(
        "--production", help="A real deployment: the deploying account is the admin only (grant the IP service "
                             "centre's account REGISTRAR_ROLE afterwards) and the settlement token has no faucet. "
                             "Without it the deployer is also the registrar and the faucet mints, as on dev chains.",
    )] = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy the contract suite to IPLEDGER_RPC_URL (or the embedded chain); idempotent. The deploying
    account holds the admin role (DEFAULT_ADMIN_ROLE)."""
    from ledger.chain.client import ChainClient, client_options
    from ledger.chain.deployment import deploy_suite, load_deployment, manifest_path
    from ledger.chain.toolchain import compile_contracts
    from ledger.context import check_chain_id, check_dev_account, import_data_folder, resolve_account, shared_store
    from ledger.documents.tokens import DEFAULT_PUBLIC_URL, production_public_url, token_base_uri

    settings = get_settings()
    if settings.rpc_url is None:
        if production:
            raise ValidationError("--production is for a real chain (IPLEDGER_RPC_URL); the embedded chain is "
                                  "always a development chain")
        with ledger() as opened:
            deployment = opened.deployment
            path = manifest_path(settings.data_dir, opened.client.chain_id)
    else:
        public_url = production_public_url(settings) if production else settings.public_url or DEFAULT_PUBLIC_URL
        artifacts = compile_contracts()
        notices: list[str] = []
        account = resolve_account(settings, embedded=False, prompt=prompt_password, notices=notices)
        if account is None:
            raise ValidationError("deploying needs an account: `ipledger account new` or IPLEDGER_PRIVATE_KEY")
        state = shared_store(settings)  # the journal: in the database, as every replica's
        try:
            import_data_folder(settings, state.engine)
            client = ChainClient(settings.rpc_url, account, state=state.engine,
                                 error_abis=[a.abi for a in artifacts.values()], **client_options(settings))
        except BaseException:
            state.dispose()
            raise
        try:
            check_chain_id(settings, client)
            check_dev_account(settings, client, embedded=False)
            path = settings.deployment or manifest_path(settings.data_dir, client.chain_id)
            if settings.deployment is not None and path.exists():
                other = load_deployment(path).chain_id
                if other != client.chain_id:  # never write one chain's deployment over another's manifest
                    raise ConfigurationError(
                        f"IPLEDGER_DEPLOYMENT {path} is the manifest of chain {other}, but the node at "
                        f"{settings.rpc_url} serves chain {client.chain_id}: name another file to deploy there")
            deployment = deploy_suite(client, path, artifacts=artifacts, dev_roles=not production,
                                      base_uri=token_base_uri(public_url))
        finally:
            client.close()
            state.dispose()
    if as_json:
        print_json({"manifest": str(path), **deployment.model_dump()})
        return
    out.print(f"Deployment on chain {deployment.chain_id} (manifest {path}):")
    for name, contract in deployment.contracts.items():
        out.print(f"  {name:<20} {contract.address}  (block {contract.block_number})")


def up(
    api: Annotated[bool, typer.Option(help="Also serve the HTTP API.")] = True,
    index: Annotated[bool, typer.Option(help="Also run the indexer (IPLEDGER_DB_URL, default SQLite).")] = True,
    host: Annotated[str, typer.Option(help="API host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
) -> None:
    """Run the embedded local chain (state kept on disk), deploy if needed, index it and serve the API,
    until Ctrl-C."""
    settings = get_settings()
    if settings.rpc_url is not None:
        raise ValidationError("`ipledger up` runs the embedded chain; unset IPLEDGER_RPC_URL")
    if settings.public_url is None:  # QR codes and tokenURI point at the address served here
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _run_up(settings, stop, api=api, index=index, host=host, port=port)
    except KeyboardInterrupt:  # Ctrl-C while starting: the chain was stopped (and its state saved) on the way out
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    out.print("Stopped; the chain's state is saved.")


def _run_up(settings: Any, stop: threading.Event, *, api: bool, index: bool, host: str, port: int) -> None:
    """`up`'s work until ``stop`` or Ctrl-C: the chain, the deployment, the indexer and the API."""
    from ledger.audit.indexer import run_indexer_in_thread
    from ledger.audit.store import default_db_url
    from ledger.chain.client import client_options
    from ledger.chain.deployment import manifest_path
    from ledger.chain.devchain import SupervisedChain

    with SupervisedChain(settings.data_dir) as chain:
        url = chain.url
        with open_ledger(settings, need_account=False) as opened:
            out.print(f"Local chain {url} (chain {opened.client.chain_id}), data in {settings.data_dir}")
            for name, contract in opened.deployment.contracts.items():
                out.print(f"  {name:<20} {contract.address}")
            holders = opened.assets.role_holders()
            deployment, artifacts, chain_id = opened.deployment, opened.artifacts, opened.client.chain_id
        out.print("Roles (`ipledger role list`; the admin grants registrar and pledgee with `ipledger role grant`):")
        for role, addresses in holders.items():
            for address in addresses or ["nobody yet"]:
                out.print(f"  {role:<10} {address}{dev_note(address)}", highlight=False)
        indexer = None
        if index:
            db_url = settings.db_url or default_db_url(settings)
            indexer = run_indexer_in_thread(url, deployment, artifacts, db_url,
                                            manifest=manifest_path(settings.data_dir, chain_id),
                                            client_options=client_options(settings),
                                            finalized_only=settings.index_finalized_only)
            out.print(f"Indexer into {db_url}")
        try:
            server = _start_api(host, port, settings) if api else None
        except LedgerError:
            if indexer is not None:
                indexer.stop()
            raise
        if server is not None:
            from ledger.context import stamp_service_account

            stamper = stamp_service_account(settings, embedded=True)
            if stamper is not None:
                out.print(f"Stamp service {stamper.address}{dev_note(stamper.address)}: POST /api/v1/stamps, a round "
                          f"every {settings.stamp_round_interval:g}s (receipts' signer: GET /api/v1/stamps/service)",
                          highlight=False)
        out.print("Running; press Ctrl-C to stop.")
        indexer_reported = False
        try:
            while not stop.wait(0.5):
                if chain.check():  # it died and was started again: re-send what its last blocks held
                    _restore(chain)
                if indexer is not None and indexer.error is not None and not indexer_reported:
                    indexer_reported = True
                    err.print(f"[red]the indexer stopped:[/red] {indexer.error}", highlight=False)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
            if server is not None:
                server.should_exit = True
            if indexer is not None:
                indexer.stop()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface, behind a proxy).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API as one replica: against the existing chain IPLEDGER_RPC_URL and the shared database
    IPLEDGER_DB_URL (PostgreSQL for several replicas), with no embedded chain and no deploy. Run N of
    them behind a proxy; `ipledger up` is the one-command local stack."""
    import uvicorn

    from api.main import create_app, freeze_startup_heap, open_api_ledger
    from ledger.chain.deployment import check_deployment, fingerprint, manifest_path
    from ledger.chain.state import pin_deployment

    settings = get_settings()
    if settings.rpc_url is None:
        raise ValidationError("`ipledger serve` serves an existing chain: set IPLEDGER_RPC_URL (and IPLEDGER_DB_URL "
                              "to the database the replicas share); `ipledger up` runs the local stack with its "
                              "embedded chain")
    with open_api_ledger(settings) as opened:
        client, deployment = opened.client, opened.deployment
        source = f"the deployment manifest {settings.deployment or manifest_path(settings.data_dir, client.chain_id)}"
        check_deployment(client, deployment, source=source)
        assert opened.shared is not None  # open_ledger always opens the shared database
        forwarder = deployment.address("IpledgerForwarder")
        pinned = pin_deployment(opened.shared, client.chain_id, forwarder, fingerprint(deployment))
        if pinned is not None:
            raise ConfigurationError(
                f"the database {opened.store_url} already serves another deployment on chain {client.chain_id} "
                f"(forwarder {pinned[0]}); {source} has forwarder {forwarder}: every replica must serve the same "
                "manifest (IPLEDGER_DEPLOYMENT), or use another database")
        relayer = client.signer().address
        out.print(f"Serving chain {client.chain_id} at {client.rpc_url} (forwarder {forwarder}, relayer {relayer}, "
                  f"database {opened.store_url}) on http://{host}:{port}/", highlight=False)
        if opened.restored:
            out.print(f"  {len(opened.restored)} journaled transactions reconciled.")
        config = uvicorn.Config(create_app(ledger=opened), host=host, port=port, log_level="warning",
                                timeout_graceful_shutdown=10)
        server = uvicorn.Server(config)
        freeze_startup_heap()
        server.run()
        if not server.started:
            raise ConfigurationError(f"the API cannot listen on {host}:{port}: the address is in use or not this "
                                     "machine's; choose another with --port or --host")


def _restore(chain: SupervisedChain) -> None:
    """After a restart: the journal re-sends what the chain lost (every open does), certificates follow."""
    out.print(f"The chain died ({chain.last_exit}); started it again on {chain.url} (pid {chain.pid}) "
              "from its saved state.")
    try:
        with open_ledger(get_settings(), need_account=False) as opened:
            restored = len(opened.restored)
    except LedgerError as exc:
        err.print(f"[red]could not re-send the journal:[/red] {exc} (every command tries again when it opens "
                  "the ledger; `ipledger reconcile` does it alone)", highlight=False)
        return
    out.print(f"  {restored} journaled transactions re-sent." if restored else "  Nothing was lost.")


def _start_api(host: str, port: int, settings: Any = None) -> Any:
    """Serve the API in a thread, if the API package provides an app."""
    try:
        import uvicorn

        from api.main import create_app, freeze_startup_heap
    except ImportError:
        return None
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():  # uvicorn ends its thread when it cannot listen
        time.sleep(0.05)
    if not server.started:
        raise ConfigurationError(f"the API cannot listen on {host}:{port}: the address is in use (another "
                                 "`ipledger up`?) or not this machine's; choose another with --port or --host")
    out.print(f"Web platform on http://{host}:{port}/  (JSON API: /api/v1, docs: /api/v1/docs)")
    freeze_startup_heap()  # the API's ledger is open now (its lifespan ran): see freeze_startup_heap
    return server


def register(app: typer.Typer) -> None:
    """Add ``reconcile``, ``deploy``, ``up`` and ``serve`` to the ``ipledger`` app."""
    app.command()(reconcile)
    app.command()(deploy)
    app.command()(up)
    app.command()(serve)
