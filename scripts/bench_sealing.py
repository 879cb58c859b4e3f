"""Sealing throughput and memory on a large file (default 1 GiB), against plain AES-256-GCM of the same file.

    .venv/bin/python scripts/bench_sealing.py [--size-mib 1024] [--dir /tmp]

Each operation runs in a fresh subprocess so its peak resident memory (``ru_maxrss``) is its own:
plain AES-256-GCM (one GCM stream over the file, 1 MiB reads, written out), ``seal_file`` (the SHA-256
pass, then the chunked AES-256-GCM STREAM pass), sealing with the hash given (as ``pledge propose
--contract-file`` does: one pass, hashing while encrypting), and ``open_file`` (decrypt, hash, rename).
Results go to benchmarks/sealing.md and benchmarks/sealing.json. Not part of the test run.

    .venv/bin/python scripts/bench_sealing.py --store [--size-mib 256]

measures the API's store instead: a sealed file put into the shared database's blob store (1 MiB chunk rows,
``SealedStore.put``, as ``POST /api/v1/sealed`` does after spooling the body) and streamed back out
(``SealedStore.stream``, checking every chunk), on SQLite (``synchronous=FULL``, as ``ipledger serve`` opens it)
and PostgreSQL (``IPLEDGER_TEST_PG_URL`` or a throwaway cluster, as the tests start one); it rewrites only the
section "The API's store" of benchmarks/sealing.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACCOUNT_KEY = hashlib.sha256(b"bench").digest()
ADDRESS = "0x" + "be" * 20
MIB = 1 << 20


def op_plain(src: Path, dst: Path) -> None:
    """The cipher alone: cryptography's AESGCM over 1 MiB pieces (one GCM message per piece), buffers reused
    (``readinto``/``encrypt_into``, as sealing does), the same reads, writes and fsync as sealing."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(os.urandom(32))
    block, sealed = bytearray(MIB), bytearray(MIB + 16)
    with src.open("rb") as fin, dst.open("wb") as fout:
        n = 0
        while got := fin.readinto(block):
            written = aead.encrypt_into(n.to_bytes(12, "big"), memoryview(block)[:got], None,
                                        memoryview(sealed)[:got + 16])
            fout.write(memoryview(sealed)[:written])
            n += 1
        fout.flush()
        os.fsync(fout.fileno())


def op_plain_stream(src: Path, dst: Path) -> None:
    """One GCM message over the whole file (cryptography's streaming Cipher API)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(os.urandom(32)), modes.GCM(os.urandom(12))).encryptor()
    with src.open("rb") as fin, dst.open("wb") as fout:
        while block := fin.read(MIB):
            fout.write(enc.update(block))
        fout.write(enc.finalize() + enc.tag)
        fout.flush()
        os.fsync(fout.fileno())


def op_sha256(src: Path) -> None:
    digest = hashlib.sha256()
    with src.open("rb") as fin:
        while block := fin.read(MIB):
            digest.update(block)


def _to(kem: int):  # type: ignore[no-untyped-def]
    from ledger.sealing.keys import AccountKeys
    from ledger.sealing.stream import To

    return [To(ADDRESS, AccountKeys.derive(ACCOUNT_KEY).public(), kem)]


def op_seal(src: Path, dst: Path, known: str | None = None) -> None:
    from ledger.sealing.format import KEM_X25519
    from ledger.sealing.stream import seal_file

    seal_file(src, dst, _to(KEM_X25519), known_sha256=known)


def op_stream(src: Path, dst: Path, known: str) -> None:
    """The sealed format's own cost: wrap, 64 KiB chunks with STREAM nonces and AAD, no hashing at all."""
    from ledger.sealing.format import KEM_X25519, Header
    from ledger.sealing.stream import atomic_output, seal_stream

    header = Header(known, src.stat().st_size)
    with src.open("rb") as fin, atomic_output(dst) as out:
        seal_stream(fin, out, header, _to(KEM_X25519), check_hash=False)


def op_open(src: Path, dst: Path) -> None:
    from ledger.sealing.keys import AccountKeys
    from ledger.sealing.stream import open_file

    open_file(src, dst, ADDRESS, lambda v: AccountKeys.derive(ACCOUNT_KEY, v))


def child(op: str, src: str, dst: str, known: str | None) -> None:
    import ledger.sealing.stream  # noqa: F401  (imports before the clock and the memory baseline)

    store = None
    if op.startswith("store-"):  # dst: the database URL; the engine opened (and migrated) before the clock
        from ledger.audit.store import Store
        from ledger.sealing.store import SealedStore

        store = SealedStore(Store(dst, durable=True).engine, 1 << 40)
        sealed_id = ""
        if op == "store-get":
            with Path(src).open("rb") as fin:
                from ledger.sealing.format import read_preamble

                header, _ = read_preamble(fin)
                digest = hashlib.sha256(header.encode())
                while block := fin.read(MIB):
                    digest.update(block)
            sealed_id = "0x" + digest.hexdigest()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if store is not None and op == "store-put":
        with Path(src).open("rb") as fin:
            store.put(fin)
    elif store is not None and op == "store-get":
        for _ in store.stream(sealed_id):
            pass
    elif op == "plain":
        op_plain(Path(src), Path(dst))
    elif op == "plain-stream":
        op_plain_stream(Path(src), Path(dst))
    elif op == "sha256":
        op_sha256(Path(src))
    elif op == "seal":
        op_seal(Path(src), Path(dst), known)
    elif op == "stream":
        assert known is not None
        op_stream(Path(src), Path(dst), known)
    elif op == "open":
        op_open(Path(src), Path(dst))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "max_rss_kib": peak, "growth_kib": peak - before}))


def run(op: str, src: Path, dst: Path | str, known: str | None = None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", op, str(src), str(dst)] + ([known] if known else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--store", action="store_true", help="measure the API's database store instead")
    args = parser.parse_args()
    if args.child:
        op, src, dst, *rest = args.child
        child(op, src, dst, rest[0] if rest else None)
        return
    if args.store:
        bench_store(args.size_mib if args.size_mib != 1024 else 256, args.dir)
        return
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="bench-sealing-"))
    try:
        plain = work / "plain.bin"
        digest = hashlib.sha256()
        with plain.open("wb") as fh:
            for _ in range(args.size_mib):
                block = os.urandom(MIB)
                digest.update(block)
                fh.write(block)
        size_mb = args.size_mib * MIB / 1e6
        rows = {}
        for name, op, src, dst, known in [
            ("plain AES-256-GCM (AESGCM, 1 MiB pieces, buffers reused)", "plain", plain, work / "plain.gcm", None),
            ("plain AES-256-GCM (one streaming message)", "plain-stream", plain, work / "plain.gcm", None),
            ("SHA-256 of the file alone", "sha256", plain, work / "none", None),
            ("seal (SHA-256 pass, then STREAM pass)", "seal", plain, work / "a.sealed", None),
            ("seal, hash known (one pass: STREAM + SHA-256 check)", "seal", plain, work / "b.sealed",
             digest.hexdigest()),
            ("the format's STREAM pass alone (no SHA-256)", "stream", plain, work / "c.sealed", digest.hexdigest()),
            ("unseal (decrypt + SHA-256 check)", "open", work / "a.sealed", work / "opened.bin", None),
        ]:
            run(op, src, dst, known)  # warm the page cache and the code paths once
            result = run(op, src, dst, known)
            rows[name] = {"MB_per_s": round(size_mb / result["seconds"], 1), "seconds": round(result["seconds"], 2),
                          "peak_rss_MiB": round(result["max_rss_kib"] / 1024, 1),
                          "rss_growth_MiB": round(result["growth_kib"] / 1024, 1)}
        assert hashlib.sha256((work / "opened.bin").read_bytes()).hexdigest() == digest.hexdigest()
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    plain_speed = max(rows["plain AES-256-GCM (AESGCM, 1 MiB pieces, buffers reused)"]["MB_per_s"],
                      rows["plain AES-256-GCM (one streaming message)"]["MB_per_s"])
    machine = f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    data = {"size_MiB": args.size_mib, "machine": machine, "results": rows}
    (ROOT / "benchmarks" / "sealing.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        "# Sealing benchmark",
        "",
        f"`scripts/bench_sealing.py --size-mib {args.size_mib}`: one {args.size_mib} MiB file of random bytes, "
        f"{data['machine']}; each operation in its own process (second of two runs, page cache warm), "
        "reading and writing files on the same disk, output fsynced. Peak RSS is the whole process's; growth is "
        "what the operation added to the RSS the interpreter had after its imports.",
        "",
        "| operation | MB/s | vs the faster plain GCM | seconds | peak RSS (MiB) | growth (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['MB_per_s']} | {row['MB_per_s'] / plain_speed:.0%} | {row['seconds']} | "
                     f"{row['peak_rss_MiB']} | {row['rss_growth_MiB']} |")
    (ROOT / "benchmarks" / "sealing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


STORE_SECTION = "## The API's store (shared database)"


def bench_store(size_mib: int, folder: Path) -> None:
    """Put a sealed file of ``size_mib`` MiB into the blob store and stream it back, on SQLite and PostgreSQL,
    with both databases' files in ``folder`` (a disk) and then, where there is one, in /dev/shm (tmpfs)."""
    rows: dict[str, dict[str, float]] = {}
    size_mb = 0.0
    places = [("disk", folder)] + ([("tmpfs", Path("/dev/shm"))] if Path("/dev/shm").is_dir() else [])
    for where, place in places:
        size_mb = _bench_store_in(size_mib, place, where, rows)
    _write_store_section(size_mib, size_mb, rows)


def _bench_store_in(size_mib: int, folder: Path, where: str, rows: dict[str, dict[str, float]]) -> float:
    from tests.pg import ENV, HOW_TO, PostgresCluster, check_server, create_database, drop_database, pg_bin_dir

    tempfile.tempdir = str(folder)  # the throwaway PostgreSQL cluster's files go there too
    work = Path(tempfile.mkdtemp(dir=folder, prefix="bench-store-"))
    cluster = None
    server = os.environ.get(ENV)
    if server:
        check_server(server)
    else:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise SystemExit(f"{ENV} is unset and PostgreSQL is not installed: {HOW_TO}")
        cluster = PostgresCluster(bin_dir)
        server = cluster.start()
    try:
        plain = work / "plain.bin"
        with plain.open("wb") as fh:
            for _ in range(size_mib):
                fh.write(os.urandom(MIB))
        sealed = work / "plain.sealed"
        run("seal", plain, sealed)
        size_mb = sealed.stat().st_size / 1e6
        pg_url = create_database(server, "ipledger_bench_store")
        try:
            for database, url in (("SQLite", f"sqlite:///{work / 'store.sqlite3'}"), ("PostgreSQL", pg_url)):
                for label, op in (("upload (put)", "store-put"), ("download (stream)", "store-get")):
                    if op == "store-get":  # the first upload, into an empty store, is the one measured
                        run(op, sealed, url)
                    result = run(op, sealed, url)
                    rows[f"{database}, {where}: {label}"] = {
                        "MB_per_s": round(size_mb / result["seconds"], 1), "seconds": round(result["seconds"], 2),
                        "rss_growth_MiB": round(result["growth_kib"] / 1024, 1)}
        finally:
            drop_database(server, pg_url)
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
        if cluster is not None:
            cluster.stop()
        tempfile.tempdir = None
    return size_mb


def _write_store_section(size_mib: int, size_mb: float, rows: dict[str, dict[str, float]]) -> None:
    machine = f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        STORE_SECTION,
        "",
        f"`scripts/bench_sealing.py --store --size-mib {size_mib}`: a sealed file of {size_mb:,.0f} MB put into the "
        f"blob store of the shared database (1 MiB chunk rows, each committed alone, every chunk's SHA-256 kept) and "
        f"streamed back out (every chunk checked), {machine}; each in its own process (the first upload into an "
        "empty store; the second of two downloads). SQLite opened as `ipledger serve` opens it (WAL, "
        "`synchronous=FULL`); PostgreSQL a local cluster with default settings. \"disk\": both databases' files "
        "on the machine's shared disk; \"tmpfs\": in /dev/shm, so the disk does not set the pace.",
        "",
        "| database: operation | MB/s | seconds | RSS growth (MiB) |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {row['MB_per_s']} | {row['seconds']} | {row['rss_growth_MiB']} |" for name, row in rows.items()),
        "",
    ]
    report = ROOT / "benchmarks" / "sealing.md"
    text = report.read_text() if report.exists() else "# Sealing benchmark\n"
    if STORE_SECTION in text:
        head, _, rest = text.partition(STORE_SECTION)
        after = rest.find("\n## ")
        text = head + "\n".join(lines) + (rest[after + 1:] if after >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
    report.write_text(text)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
