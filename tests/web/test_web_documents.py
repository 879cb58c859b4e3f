"""Documents on a running platform (``ipledger up``): certificates whose QR code and attachment verify,
bank reports that re-check against the chain at their block, audit reports of a period, and the
ERC-721 metadata a wallet finds through ``tokenURI``. Every document is read back as a person reads
it: its text (pdftotext) in Chinese and English, its QR code (zbarimg)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from ledger.chain.devchain import running_url
from ledger.documents.certificate import certificate_from_url
from ledger.documents.due_diligence import ATTACHMENT as REPORT_ATTACHMENT
from ledger.documents.pdf import Attached, attachment, html_to_pdf
from tests.cliproc import run_ipledger
from tests.ledger.documents.pdf_tools import pdf_text, qr_codes
from tests.web.browser import ROOT, Platform, dev_key

OWNER, LICENSEE, BANK = 5, 6, 7
"""Anvil development accounts of this module's story (0 is the admin and registrar)."""
TOKEN_URI_ABI = [{"type": "function", "name": "tokenURI", "stateMutability": "view",
                  "inputs": [{"name": "tokenId", "type": "uint256"}], "outputs": [{"name": "", "type": "string"}]}]


def ipledger(platform: Platform, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """``ipledger ARGS`` against the platform, with extra environment (as ``Platform.cli``)."""
    done = run_ipledger(args, env=platform.env(**env), timeout=300, cwd=ROOT)
    if check and done.returncode != 0:
        raise AssertionError(f"ipledger {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@dataclass
class Story:
    """An asset with a recorded licence and a pledge, read by the bank at a maturity it cannot meet."""

    asset_id: int
    ref: str
    title: str
    license_id: int
    recordal_no: str
    pledge_id: int
    metadata_hash: str
    block_time: int


@pytest.fixture(scope="module")
def story(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Story:
    folder = tmp_path_factory.mktemp("documents-story")
    claims = folder / "claims.txt"
    claims.write_text(f"What is claimed is a method of pledging patents ({secrets.token_hex(8)}).\n")
    ref = f"CN2026{secrets.randbelow(10**7):07d}.{secrets.randbelow(10)}"
    title = "一种专利质押方法 A method of pledging patents"
    owner, licensee, bank = (f"--dev-account={n}" for n in (OWNER, LICENSEE, BANK))
    registered = as_json(ipledger(platform, owner, "asset", "register", "--kind", "invention-patent", "--ref", ref,
                                  "--file", str(claims), "--title", title, "--json"))
    asset_id = int(registered["asset_id"])
    ipledger(platform, "--dev-account=0", "asset", "verify", str(asset_id))
    ipledger(platform, "--dev-account=0", "asset", "status", str(asset_id), "granted")
    ipledger(platform, "--dev-account=0", "asset", "dates", str(asset_id), "--expires", "2029-01-01",
             "--fees-paid-until", "2028-12-31")
    offered = as_json(ipledger(platform, owner, "license", "offer", str(asset_id), "--to", dev_key(LICENSEE).address,
                               "--kind", "non-exclusive", "--end", "2028-12-31", "--territory", "CN", "--json"))
    license_id = int(offered["licenseId"])
    ipledger(platform, licensee, "license", "accept", str(license_id))
    recordal_no = f"2026{secrets.randbelow(10**9):09d}"
    ipledger(platform, "--dev-account=0", "license", "record", str(license_id), recordal_no)
    ipledger(platform, "--dev-account=0", "role", "grant", "pledgee", dev_key(BANK).address)
    proposed = as_json(ipledger(platform, owner, "pledge", "propose", str(asset_id), "--to", dev_key(BANK).address,
                                "--principal", "5000000", "--currency", "CNY", "--maturity", "2028-06-30", "--json"))
    pledge_id = int(proposed["pledgeId"])
    ipledger(platform, bank, "pledge", "accept", str(pledge_id))
    report = as_json(ipledger(platform, "check", str(asset_id), "--json"))
    return Story(asset_id, ref, title, license_id, recordal_no, pledge_id, registered["metadata_hash"],
                 int(report["block_time"]))


# -- certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stamped(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("documents-stamp")
    file = folder / "发明说明书.txt"
    file.write_text(f"An invention disclosure {secrets.token_hex(8)}\n")
    [entry] = as_json_list(ipledger(platform, "stamp", str(file), "--pdf", "--lang", "en", "--json"))
    yield file, entry


def as_json_list(done: subprocess.CompletedProcess[str]) -> list:  # type: ignore[type-arg]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_stamp_with_pdf_writes_json_and_pdf_showing_every_field(stamped: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    file, entry = stamped
    pdf = Path(entry["pdf_file"])
    assert pdf.name == f"{file.name}.ipledger.pdf" and Path(entry["certificate_file"]).exists()
    text = pdf_text(pdf)
    moment = dt.datetime.fromtimestamp(entry["block_time"], dt.UTC)
    for value in ("Timestamp certificate", file.name, entry["digest"], entry["author"], entry["contract"],
                  entry["tx_hash"], entry["block_hash"], str(entry["block_number"]), "31337",
                  moment.strftime("%Y-%m-%d %H:%M:%S UTC"), "Asia/Shanghai"):
        assert value in text, value


def test_certificate_qr_code_opens_verify_page_and_the_certificate_verifies(
        platform: Platform, stamped: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    file, entry = stamped
    [link] = qr_codes(Path(entry["pdf_file"]), tmp_path)
    assert link.startswith(f"{platform.url}/verify#cert=")  # ipledger up's address, from the deployment
    assert httpx.get(link.split("#")[0]).status_code == 200
    certificate = certificate_from_url(link).model_dump(mode="json")
    digest = "0x" + hashlib.sha256(file.read_bytes()).hexdigest()
    verdict = httpx.post(f"{platform.url}/api/v1/timestamps/verify",
                         json={"digest": digest, "certificate": certificate}).json()
    assert verdict["valid"] is True and verdict["tx_hash"] == entry["tx_hash"]


def test_verify_with_the_pdf_alone_verifies_the_file(platform: Platform, stamped: tuple[Path, dict],  # type: ignore[type-arg]
                                                     tmp_path: Path) -> None:
    file, entry = stamped
    alone = tmp_path / "alone"
    alone.mkdir()
    copy, pdf = alone / file.name, alone / "certificate.pdf"
    copy.write_bytes(file.read_bytes())
    pdf.write_bytes(Path(entry["pdf_file"]).read_bytes())  # no JSON certificate anywhere near
    done = ipledger(platform, "verify", str(copy), str(pdf), "--json")
    assert as_json(done)["valid"] is True
    copy.write_bytes(file.read_bytes() + b"altered")
    failed = ipledger(platform, "verify", str(copy), str(pdf), check=False)
    assert failed.returncode == 1


@pytest.mark.parametrize("lang, title", [("zh", "时间戳存证证书"), ("en", "Timestamp certificate")])
def test_certificate_render_writes_the_document_in_each_language(
        platform: Platform, stamped: tuple[Path, dict], tmp_path: Path, lang: str, title: str) -> None:  # type: ignore[type-arg]
    _, entry = stamped
    pdf, html = tmp_path / f"c-{lang}.pdf", tmp_path / f"c-{lang}.html"
    ipledger(platform, "certificate", "render", entry["certificate_file"], "--lang", lang, "-o", str(pdf))
    ipledger(platform, "certificate", "render", entry["certificate_file"], "--lang", lang, "--format", "html",
             "-o", str(html))
    assert title in pdf_text(pdf) and entry["digest"] in pdf_text(pdf)
    assert title in html.read_text() and f"{platform.url}/verify#cert=" in html.read_text()
    again = tmp_path / "again.pdf"
    ipledger(platform, "certificate", "render", entry["certificate_file"], "--lang", lang, "-o", str(again))
    assert again.read_bytes() == pdf.read_bytes()


@pytest.mark.parametrize("content, args, reason", [
    ('{"version": 1}', (), "malformed certificate"),
    ("not json", (), "malformed certificate"),
    (None, ("--lang", "fr"), "--lang zh or --lang en"),
    (None, ("--format", "docx"), "--format is pdf or html"),
])
def test_certificate_render_when_input_is_bad_exits_2_and_writes_nothing(
        platform: Platform, stamped: tuple[Path, dict], tmp_path: Path, content: str | None,  # type: ignore[type-arg]
        args: tuple[str, ...], reason: str) -> None:
    source = Path(stamped[1]["certificate_file"])
    if content is not None:
        source = tmp_path / "bad.ipledger.json"
        source.write_text(content)
    out = tmp_path / "out.pdf"
    done = ipledger(platform, "certificate", "render", str(source), *args, "-o", str(out), check=False)
    assert done.returncode == 2 and reason in done.stderr
    assert list(tmp_path.glob("out.pdf*")) == [] and list(tmp_path.glob(".out.pdf*")) == []


def test_render_route_answers_a_pdf_for_the_certificate_json(platform: Platform, stamped: tuple[Path, dict],  # type: ignore[type-arg]
                                                              tmp_path: Path) -> None:
    _, entry = stamped
    certificate = json.loads(Path(entry["certificate_file"]).read_text())
    answer = httpx.post(f"{platform.url}/api/v1/certificates/render?lang=zh", json=certificate, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    pdf = tmp_path / "route.pdf"
    pdf.write_bytes(answer.content)
    assert "时间戳存证证书" in pdf_text(pdf)
    bad = httpx.post(f"{platform.url}/api/v1/certificates/render", json={**certificate, "digest": "0x12"})
    assert bad.status_code == 422 and "digest" in bad.text
    altered = httpx.post(f"{platform.url}/api/v1/certificates/render",
                         json={**certificate, "block_time_iso": "2001-01-01T00:00:00Z"})
    assert altered.status_code == 400 and "disagrees with block_time" in altered.json()["detail"]


# -- the bank's due-diligence report --------------------------------------------------------------


@pytest.mark.parametrize("lang, words", [
    ("en", ["Due-diligence report", "Red flags", "Expires before the loan matures", "Already pledged", "Owner",
            "Granted", "Invention patent", "Licences", "Pledges", "Freezes", "Never frozen.", "History",
            "before the loan matures on"]),
    ("zh", ["尽职调查报告", "风险提示", "在贷款到期前届满", "已出质", "权利人", "已授权", "发明专利", "许可", "质押",
            "冻结", "从未被冻结。", "历史记录", "早于贷款到期日", "已出质给"]),
])
def test_check_pdf_shows_red_flags_first_then_every_fact(platform: Platform, story: Story, tmp_path: Path,
                                                          lang: str, words: list[str]) -> None:
    pdf = tmp_path / f"check-{lang}.pdf"
    report = as_json(ipledger(platform, "check", str(story.asset_id), "--maturity", "2030-06-30", "--pdf", str(pdf),
                              "--lang", lang, "--json"))
    text = pdf_text(pdf)
    for word in words:
        assert word in text, word
    assert text.index(words[1]) < text.index(words[4])  # red flags before the owner
    for value in (story.ref, story.title, dev_key(OWNER).address, dev_key(LICENSEE).address, dev_key(BANK).address,
                  story.recordal_no, str(report["block_number"]), report["block_hash"], "5,000,000", "CNY",
                  "IPRegistry.AssetRegistered", "PledgeRegistry.PledgeAccepted", "LicenseRegistry.LicenseRecorded"):
        assert value in text, value


def test_recheck_of_an_earlier_report_holds_after_the_asset_moved_on(platform: Platform, story: Story,
                                                                      tmp_path: Path) -> None:
    pdf = tmp_path / "check.pdf"
    ipledger(platform, "check", str(story.asset_id), "--maturity", "2030-06-30", "--pdf", str(pdf), "--lang", "en")
    ipledger(platform, "--dev-account=0", "asset", "dates", str(story.asset_id), "--expires", "2029-01-01",
             "--fees-paid-until", "2028-12-30")  # a new event after the report
    done = ipledger(platform, "recheck", str(pdf), "--json")
    assert as_json(done)["ok"] is True


def test_recheck_of_a_report_with_altered_history_fails(platform: Platform, story: Story, tmp_path: Path) -> None:
    pdf = tmp_path / "check.pdf"
    ipledger(platform, "check", str(story.asset_id), "--maturity", "2030-06-30", "--pdf", str(pdf), "--lang", "en")
    data = json.loads(attachment(pdf.read_bytes(), REPORT_ATTACHMENT))
    data["history"] = [e for e in data["history"] if e["event"] != "PledgeAccepted"]  # hide the pledge
    data["red_flags"] = [f for f in data["red_flags"] if f["code"] != "pledged"]
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(html_to_pdf("<html><head></head><body>clean</body></html>", moment=dt.datetime.now(dt.UTC),
                                   attachments=[Attached(REPORT_ATTACHMENT, json.dumps(data).encode())]))
    done = ipledger(platform, "recheck", str(forged), check=False)
    assert done.returncode == 1 and "ALTERED" in done.stdout
    assert "history: " in done.stdout and "red_flags" in done.stdout


def test_check_pdf_of_an_unknown_asset_fails_and_writes_nothing(platform: Platform, tmp_path: Path) -> None:
    pdf = tmp_path / "none.pdf"
    done = ipledger(platform, "check", "999999", "--pdf", str(pdf), check=False)
    assert done.returncode == 1 and "999999" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_page_route_downloads_the_report_in_the_page_language(platform: Platform, story: Story,
                                                                     tmp_path: Path) -> None:
    answer = httpx.get(f"{platform.url}/assets/{story.asset_id}/check.pdf?maturity=2030-06-30",
                       headers={"Accept-Language": "zh-CN"}, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "route.pdf"
    pdf.write_bytes(answer.content)
    assert "尽职调查报告" in pdf_text(pdf)
    assert ipledger(platform, "recheck", str(pdf)).returncode == 0
    missing = httpx.get(f"{platform.url}/assets/999999/check.pdf?lang=en", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


# -- the audit report -----------------------------------------------------------------------------


def _indexed(platform: Platform, story: Story) -> None:
    import time

    block = as_json(ipledger(platform, "check", str(story.asset_id), "--json"))["block_number"]
    deadline = time.monotonic() + 60
    while (httpx.get(f"{platform.url}/api/v1/audit/totals").json().get("indexed_to") or 0) < block:
        assert time.monotonic() < deadline, "the indexer did not reach the story's block in 60 s"
        time.sleep(0.5)


@pytest.mark.parametrize("lang, words", [
    ("en", ["Audit report", "Consistency check", "The index matches the chain.", "Totals", "Assets registered",
            "Licence recordals", "Pledges accepted", "Activity", "Pledges"]),
    ("zh", ["审计报告", "一致性核对", "索引与链上数据一致。", "合计", "资产登记", "许可备案", "质押设立", "活动",
            "质押"]),
])
def test_audit_report_of_the_day_lists_pledges_recordals_and_consistency(
        platform: Platform, story: Story, tmp_path: Path, lang: str, words: list[str]) -> None:
    _indexed(platform, story)
    day = dt.datetime.fromtimestamp(story.block_time, dt.UTC).date().isoformat()
    pdf, html = tmp_path / f"audit-{lang}.pdf", tmp_path / f"audit-{lang}.html"
    report = as_json(ipledger(platform, "audit", "report", "--from", day, "--to", day, "--pdf", str(pdf),
                              "--html", str(html), "--lang", lang, "--json"))
    assert report["consistency"]["ok"] is True
    text = pdf_text(pdf)
    for word in words:
        assert word in text, word
    assert story.recordal_no in text and dev_key(BANK).address in text and "5,000,000 CNY" in text
    assert "<svg" not in html.read_text() and "data:image/svg+xml;base64," in html.read_text()  # the chart
    assert "<script" not in html.read_text()


def test_audit_report_of_a_period_without_events_exits_1_and_writes_nothing(platform: Platform,
                                                                             tmp_path: Path) -> None:
    pdf = tmp_path / "empty.pdf"
    done = ipledger(platform, "audit", "report", "--from", "2001-01-01", "--to", "2001-01-31", "--pdf", str(pdf),
                    check=False)
    assert done.returncode == 1 and "no events between 2001-01-01" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_audit_report_route_downloads_the_pdf(platform: Platform, story: Story, tmp_path: Path) -> None:
    _indexed(platform, story)
    day = dt.datetime.fromtimestamp(story.block_time, dt.UTC).date().isoformat()
    answer = httpx.get(f"{platform.url}/audit/report.pdf?from={day}&to={day}&lang=en", timeout=120)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "audit.pdf"
    pdf.write_bytes(answer.content)
    assert "Audit report" in pdf_text(pdf) and story.recordal_no in pdf_text(pdf)
    empty = httpx.get(f"{platform.url}/audit/report.pdf?from=2001-01-01&to=2001-01-02&lang=en")
    assert empty.status_code == 404 and "text/html" in empty.headers["content-type"]


# -- ERC-721 metadata -----------------------------------------------------------------------------


def test_token_uri_of_an_asset_points_a_wallet_to_json_naming_it(platform: Platform, story: Story) -> None:
    contracts = httpx.get(f"{platform.url}/api/v1/chain").json()["contracts"]
    rpc = running_url(platform.data_dir)
    assert rpc is not None
    w3 = Web3(Web3.HTTPProvider(rpc))
    registry = w3.eth.contract(address=Web3.to_checksum_address(contracts["IPRegistry"]), abi=TOKEN_URI_ABI)
    uri = registry.functions.tokenURI(story.asset_id).call()
    assert uri == f"{platform.url}/api/v1/tokens/{story.asset_id}"
    metadata = httpx.get(uri).json()
    assert metadata["name"] == story.title
    traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
    assert traits["kind"] == "invention-patent" and traits["ref"] == story.ref and traits["status"] == "granted"
    assert metadata["external_url"] == f"{platform.url}/assets/{story.asset_id}"
    assert metadata["metadata_hash"] == story.metadata_hash
    document = httpx.get(metadata["metadata_document"]).content
    assert "0x" + hashlib.sha256(document).hexdigest() == story.metadata_hash  # checkable against the chain
