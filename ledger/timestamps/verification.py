"""Verifying files: which of a file's certificates holds, for one file or a whole folder.

A file can have several certificates beside it (``FILE.ipledger.json``, ``FILE.ipledger.2.json``,
...: it was stamped again after it changed). Each is tried against the file as it is now; the
earliest that holds (lowest block) is the answer, because the earliest proof of existence is the
valuable one. Every file gets a :class:`Verdict`, valid or not, with the reason, so a caller can
always report what happened; a folder gets a :class:`VerifyReport` (a summary and one verdict per
file), valid only when every file verifies.

How a certificate is checked against the chain is the caller's :data:`Checker` (the local
:class:`~ledger.timestamps.service.TimestampService`, or the HTTP API), given all candidates at
once so it can batch them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError, ValidationError, VerificationError
from ledger.timestamps.proofs import Certificate, CertificateIndex, certificate_path, file_digest, is_certificate_name
from ledger.timestamps.service import Verified

__all__ = ["Checker", "Verdict", "VerifyReport", "verify_files", "verify_folder"]

Checker = Callable[[Sequence[tuple[bytes, Certificate]]], list["Verified | LedgerError"]]
"""Check (file digest, certificate) pairs; one result per pair: who and when, or why not."""


@dataclass(frozen=True)
class Verdict:
    """The answer for one file: valid with the certificate that holds, or the reason it does not."""

    file: str
    valid: bool
    reason: str | None = None
    certificate_file: str | None = None
    verified: Verified | None = None
    error: LedgerError | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.verified.as_json() if self.verified is not None else {}
        data.update(file=self.file, valid=self.valid, reason=self.reason, certificate_file=self.certificate_file)
        return data


@dataclass(frozen=True)
class VerifyReport:
    """Every file's verdict; valid only when every file verifies."""

    verdicts: list[Verdict]

    @property
    def valid(self) -> bool:
        return bool(self.verdicts) and all(v.valid for v in self.verdicts)

    @property
    def verified(self) -> int:
        return sum(v.valid for v in self.verdicts)

    @property
    def failed(self) -> int:
        return len(self.verdicts) - self.verified

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "count": len(self.verdicts), "verified": self.verified, "failed": self.failed,
            "files": [v.as_json() for v in self.verdicts],
        }


def verify_folder(folder: Path, check: Checker) -> VerifyReport:
    """Verify every file in ``folder`` (recursively) as ``stamp`` would stamp it: certificates and
    hidden files are not files to verify; a file without a certificate fails."""
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not is_certificate_name(p.name)
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise ValidationError(f"no files to verify in {folder}", path=str(folder))
    return VerifyReport(verify_files(files, check))


def verify_files(files: Sequence[Path], check: Checker, certificate: Path | None = None) -> list[Verdict]:
    """One verdict per file; ``certificate`` names the one certificate to use (one file only)."""
    if certificate is not None and len(files) != 1:
        raise ValidationError("a certificate can be named for one file only")
    pairs: list[tuple[bytes, Certificate]] = []
    index = CertificateIndex()
    plans: list[tuple[Path, list[tuple[Path, int | LedgerError]]] | Verdict] = []
    for f in files:
        if not f.is_file():
            error = ValidationError(f"no such file: {f}", path=str(f))
            plans.append(Verdict(str(f), False, error.message, None, error=error))
            continue
        paths = [certificate] if certificate is not None else index.of(f)
        if not paths:
            error = ValidationError(f"no certificate for {f} (expected {certificate_path(f)})", path=str(f))
            plans.append(Verdict(str(f), False, error.message, None, error=error))
            continue
        try:
            digest = file_digest(f)
        except ValidationError as exc:
            plans.append(Verdict(str(f), False, exc.message, str(paths[0]), error=exc))
            continue
        candidates: list[tuple[Path, int | LedgerError]] = []
        for p in paths:
            try:
                cert = Certificate.load(p)
            except ValidationError as exc:
                candidates.append((p, exc))
                continue
            candidates.append((p, len(pairs)))
            pairs.append((digest, cert))
        plans.append((f, candidates))
    results = check(pairs) if pairs else []
    if len(results) != len(pairs):
        raise VerificationError(f"asked to check {len(pairs)} certificates, got {len(results)} answers")
    return [plan if isinstance(plan, Verdict) else _verdict(*plan, results) for plan in plans]


def _verdict(
    file: Path, candidates: list[tuple[Path, int | LedgerError]], results: list[Verified | LedgerError]
) -> Verdict:
    outcomes = [(p, results[c] if isinstance(c, int) else c) for p, c in candidates]
    holding = [(p, v) for p, v in outcomes if isinstance(v, Verified)]
    if holding:
        path, verified = min(holding, key=lambda pv: pv[1].block_number)  # the earliest proof
        return Verdict(str(file), True, None, str(path), replace(verified, file=str(file)))
    failures = [(p, e) for p, e in outcomes if isinstance(e, LedgerError)]
    if len(failures) == 1:
        path, error = failures[0]
        return Verdict(str(file), False, error.message, str(path), error=error)
    reason = f"none of the {len(failures)} certificates of {file} holds: " + "; ".join(
        f"{p.name}: {e.message}" for p, e in failures
    )
    kind = VerificationError if any(isinstance(e, VerificationError) for _, e in failures) else ValidationError
    return Verdict(str(file), False, reason, str(failures[0][0]), error=kind(reason, path=str(file)))
