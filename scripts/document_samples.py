"""Write one sample of each document to ``docs/samples/`` (Chinese and English), from a real story on a
throwaway embedded chain: a stamped file, a registered and verified patent with a recorded licence and
a pledge, the bank's check at a maturity the patent does not reach, the day's audit report, and the
asset's ERC-721 metadata.

    PYTHONPATH=$PWD .venv/bin/python scripts/document_samples.py [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

from ledger.audit.indexer import Indexer, sources_from_deployment
from ledger.chain.client import dev_account
from ledger.context import open_ledger
from ledger.documents.audit_report import build_audit_report, render_audit_report
from ledger.documents.certificate import render_certificate
from ledger.documents.due_diligence import render_due_diligence
from ledger.documents.tokens import token_metadata
from ledger.encoding import parse_date
from ledger.registry.licenses import LicenseTerms
from ledger.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = "https://ip.example.org"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", public_url=PUBLIC)
        owner, admin, licensee, bank = dev_account(5), dev_account(0), dev_account(6), dev_account(7)
        with open_ledger(settings, account=owner) as ledger:
            claims = folder / "权利要求书 claims.txt"
            claims.write_text("What is claimed is a method of pledging patents.\n一种专利质押方法。\n")
            [cert] = ledger.timestamps.stamp_files([claims], sender=owner).certificates
            asset_id = ledger.assets.register_file(
                claims, "invention-patent", "CN202010123456.7", "一种专利质押方法 A method of pledging patents",
                extra={"inventors": "李伟 Li Wei"}, sender=owner).asset_id
            ledger.assets.set_verified(asset_id, sender=admin)
            ledger.assets.set_legal_status(asset_id, "granted", sender=admin)
            ledger.assets.set_dates(asset_id, parse_date("2029-01-01"), parse_date("2027-12-31"), sender=admin)
            terms = LicenseTerms(licensee=licensee.address, kind="non-exclusive", start=parse_date("2026-06-01"),
                                 end=parse_date("2028-12-31"), territory="CN", field_of_use="H04L", fee=500_000)
            license_id = ledger.licenses.offer(asset_id, terms, sender=owner).ids["licenseId"]
            ledger.licenses.accept(license_id, sender=licensee)
            ledger.licenses.record_filing(license_id, "2026990000123", sender=admin)
            ledger.assets.grant_role("pledgee", bank.address, sender=admin)
            pledge_id = ledger.pledges.propose(asset_id, bank.address, 5_000_000, "CNY", "2028-06-30",
                                               sender=owner).ids["pledgeId"]
            version = ledger.check.due_diligence(asset_id, parse_date("2028-06-30")).encumbrance_version
            ledger.pledges.accept(pledge_id, version, sender=bank)
            report = ledger.check.due_diligence(asset_id, parse_date("2030-06-30"))
            Indexer(ledger.client, ledger.store, sources_from_deployment(ledger.deployment, ledger.artifacts)).sync()
            day = dt.datetime.fromtimestamp(report.block_time, dt.UTC).replace(hour=0, minute=0, second=0)
            start = int(day.timestamp())
            audit = ledger.audit
            sources = sources_from_deployment(ledger.deployment, ledger.artifacts)
            audit_report = build_audit_report(audit, start, start + 86_399, lambda first, last: audit.verify(
                ledger.client, sources, from_block=first, to_block=last))
            zone = settings.document_timezone
            for lang in ("zh", "en"):
                (out / f"certificate-{lang}.pdf").write_bytes(
                    render_certificate(cert, lang=lang, public_url=PUBLIC, zone=zone))
                (out / f"certificate-{lang}.html").write_bytes(
                    render_certificate(cert, fmt="html", lang=lang, public_url=PUBLIC, zone=zone))
                (out / f"due-diligence-{lang}.pdf").write_bytes(
                    render_due_diligence(report, chain_id=ledger.client.chain_id, lang=lang, zone=zone))
                (out / f"audit-report-{lang}.pdf").write_bytes(render_audit_report(audit_report, lang=lang, zone=zone))
            metadata = token_metadata(ledger.assets.show(asset_id), PUBLIC)
            (out / "erc721-metadata.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
            ledger.store.dispose()
    for path in sorted(out.iterdir()):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "samples")
