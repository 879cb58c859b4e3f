"""Documents rendered without a chain: every field of a certificate in both languages, the same bytes
for the same input, the QR code's link and the certificate it carries (read back by Python and by the
verify page's ES module), the certificate attached to the PDF, and bad input refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ledger.documents.audit_report import TOTAL_LABELS, chart_svg, totals_svg
from ledger.documents.certificate import (
    LINK_NAME_CHARS,
    certificate_from_pdf,
    certificate_from_url,
    qr_link,
    render_certificate,
    verify_url,
)
from ledger.documents.i18n import locale_of, translations
from ledger.errors import ValidationError
from ledger.timestamps.proofs import Certificate, MerkleTree, _node_hash, commitment, leaf_hash, verify_proof
from tests.ledger.documents.pdf_tools import pdf_text, qr_codes

ROOT = Path(__file__).resolve().parents[3]
PUBLIC = "https://ip.example.org"
LABELS = {
    "en": ["Timestamp certificate", "File name", "SHA-256", "Author", "Time (UTC)", "Local time", "Chain",
           "Contract", "Block", "Block hash", "Transaction"],
    "zh": ["时间戳存证证书", "文件名", "SHA-256 摘要", "作者", "时间（UTC）", "本地时间", "区块链", "合约", "区块",
           "区块哈希", "交易"],
}
LOCAL_TIME = {"en": "May 29, 2026, 4:26:40 AM", "zh": "2026年5月29日 04:26:40"}


def sample_certificate(name: str = "发明说明书 claims.pdf") -> Certificate:
    digest = hashlib.sha256(b"What is claimed is a method of pledging patents.\n").digest()
    author = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    salt = bytes(range(32))
    leaf = commitment(digest, author, salt)
    return Certificate(
        chain_id=31337, contract="0x5FbDB2315678afecb367f032d93F642f64180aa3", tx_hash="0x" + "ab" * 32,
        block_number=58, block_hash="0x" + "cd" * 32, block_time=1780000000, file_name=name,
        digest="0x" + digest.hex(), author=author, salt="0x" + salt.hex(), leaf="0x" + leaf.hex(), proof=[],
        root="0x" + leaf_hash(leaf).hex(), stamper=author, batch_size=1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_render_certificate_pdf_in_each_language_shows_every_field(lang: str, tmp_path: Path) -> None:
    cert = sample_certificate()
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate(cert, lang=lang, public_url=PUBLIC))
    text = pdf_text(pdf)
    for label in LABELS[lang]:
        assert label in text
    for value in (cert.file_name, cert.digest, cert.author, "2026-05-28 20:26:40 UTC", LOCAL_TIME[lang],
                  "Asia/Shanghai", "31337", cert.contract, "58", cert.block_hash, cert.tx_hash, cert.root, cert.salt):
        assert value in text, value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_render_certificate_html_in_each_language_names_its_language_and_fields(lang: str) -> None:
    cert = sample_certificate()
    html = render_certificate(cert, fmt="html", lang=lang, public_url=PUBLIC).decode()
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in html
    assert LABELS[lang][0] in html and cert.digest in html and cert.tx_hash in html
    assert "data:image/svg+xml" in html  # the QR code travels inside the page


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_render_certificate_twice_gives_the_same_bytes(fmt: str) -> None:
    cert = sample_certificate()
    first = render_certificate(cert, fmt=fmt, lang="zh", public_url=PUBLIC)
    assert render_certificate(cert, fmt=fmt, lang="zh", public_url=PUBLIC) == first


def test_certificate_pdf_qr_code_opens_the_verify_page_with_the_certificate(tmp_path: Path) -> None:
    cert = sample_certificate()
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate(cert, lang="en", public_url=PUBLIC + "/"))
    [link] = qr_codes(pdf, tmp_path)
    assert link == verify_url(cert, PUBLIC)
    assert link.startswith(f"{PUBLIC}/verify#cert=") and "=" not in link.split("#cert=")[1]
    assert certificate_from_url(link) == cert


def test_verify_page_module_reads_the_certificate_from_the_link_python_writes() -> None:
    cert = sample_certificate()
    script = (
        "const { certificateFromUrl } = await import(process.argv[1]);"
        "const out = { cert: certificateFromUrl(process.argv[2]), none: certificateFromUrl('https://x/verify') };"
        "try { certificateFromUrl('https://x/verify#cert=e30x!'); } catch (e) { out.damaged = e.code; }"
        "console.log(JSON.stringify(out));"
    )
    module = ROOT / "api" / "web" / "static" / "js" / "cert-from-url.js"
    done = subprocess.run(["node", "--input-type=module", "-e", script, module.as_uri(), verify_url(cert, PUBLIC)],
                          capture_output=True, text=True, check=True, timeout=60)
    parsed = json.loads(done.stdout)
    assert Certificate.model_validate(parsed["cert"]) == cert
    assert parsed["none"] is None and parsed["damaged"] == "damaged"


def test_certificate_pdf_carries_its_certificate_json() -> None:
    cert = sample_certificate()
    pdf = render_certificate(cert, lang="zh", public_url=PUBLIC)
    assert certificate_from_pdf(pdf) == cert


def test_load_certificate_from_pdf_path_reads_the_attachment(tmp_path: Path) -> None:
    cert = sample_certificate()
    path = tmp_path / "claims.pdf.ipledger.pdf"
    path.write_bytes(render_certificate(cert, lang="en", public_url=PUBLIC))
    assert Certificate.load(path) == cert


def test_load_certificate_from_a_pdf_without_one_is_refused(tmp_path: Path) -> None:
    import datetime as dt

    from ledger.documents.pdf import html_to_pdf

    path = tmp_path / "other.pdf"
    path.write_bytes(html_to_pdf("<html><head></head><body>hi</body></html>", moment=dt.datetime.now(dt.UTC)))
    with pytest.raises(ValidationError, match="carries no certificate.ipledger.json"):
        Certificate.load(path)


@pytest.mark.parametrize("link, reason", [
    ("https://ip.example.org/verify", "carries no certificate"),
    ("https://ip.example.org/verify#cert=%%%", "damaged"),
    ("https://ip.example.org/verify#cert=e30", "malformed certificate"),  # {} is not a certificate
])
def test_certificate_from_url_when_link_is_bad_says_why(link: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        certificate_from_url(link)


def batch_certificate(batch_size: int = 10_000, name: str = "发明说明书 claims.pdf",
                      depth: int | None = None) -> Certificate:
    """``sample_certificate`` stamped as the first of ``batch_size`` leaves (a real tree: a proof of 14 hashes for
    10,000), or with a proof of ``depth`` made-up siblings folded into its root (a tree too big to build here)."""
    single = sample_certificate(name)
    leaf = bytes.fromhex(single.leaf[2:])
    if depth is None:
        tree = MerkleTree([leaf] + [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(1, batch_size)])
        proof, root = tree.proof(0), tree.root
    else:
        proof = [hashlib.sha256(b"sibling %d" % i).digest() for i in range(depth)]
        root = leaf_hash(leaf)
        for sibling in proof:
            root = _node_hash(root, sibling)
    return Certificate.model_validate({**single.model_dump(), "proof": ["0x" + p.hex() for p in proof],
                                       "root": "0x" + root.hex(), "batch_size": batch_size})


def checked_fields(cert: Certificate) -> dict:  # type: ignore[type-arg]
    """Everything a verifier checks: all but the file's name (which no hash covers)."""
    return cert.model_dump(exclude={"file_name", "revises"})


BIG = {"14 proof hashes": lambda: batch_certificate(),
       "1024-character Chinese file name": lambda: sample_certificate("发" * 1000 + "明说明书claims.pdf" + "书" * 10)}


@pytest.mark.parametrize("case", list(BIG))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_render_certificate_too_large_for_a_full_qr_link_renders_with_a_qr_code_that_still_verifies(
        lang: str, case: str, tmp_path: Path) -> None:
    cert = BIG[case]()
    assert len(cert.proof) == (14 if "proof" in case else 0) and len(verify_url(cert, PUBLIC)) > 2331
    html = render_certificate(cert, fmt="html", lang=lang, public_url=PUBLIC).decode()
    assert LABELS[lang][0] in html and "data:image/svg+xml" in html and verify_url(cert, PUBLIC) in html
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate(cert, lang=lang, public_url=PUBLIC))
    [link] = qr_codes(pdf, tmp_path)
    assert link == qr_link(cert, PUBLIC).url and link.startswith(f"{PUBLIC}/verify#cert=")
    linked = certificate_from_url(link)
    assert checked_fields(linked) == checked_fields(cert)
    assert verify_proof([bytes.fromhex(p[2:]) for p in linked.proof], bytes.fromhex(linked.root[2:]),
                        bytes.fromhex(linked.leaf[2:]))
    assert cert.file_name.startswith(linked.file_name.rstrip("…")) and len(linked.file_name) <= max(
        LINK_NAME_CHARS, len(cert.file_name))
    assert certificate_from_pdf(pdf.read_bytes()) == cert  # the whole certificate, name and all
    assert cert.digest in pdf_text(pdf)


def test_full_link_that_fits_at_a_lower_error_correction_level_is_kept_whole(tmp_path: Path) -> None:
    cert = batch_certificate()  # 14 hashes: too long at M, fits at L
    assert qr_link(cert, PUBLIC).url == verify_url(cert, PUBLIC)


@pytest.mark.parametrize("lang, says", [("en", "attached to this PDF"), ("zh", "证书已附在本 PDF 中")])
def test_certificate_whose_link_fits_no_qr_code_opens_the_verify_page_and_says_the_pdf_carries_it(
        lang: str, says: str, tmp_path: Path) -> None:
    cert = batch_certificate(batch_size=2**40, depth=40, name="x" * 300)
    assert not qr_link(cert, PUBLIC).carries_certificate
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate(cert, lang=lang, public_url=PUBLIC))
    assert qr_codes(pdf, tmp_path) == [f"{PUBLIC}/verify"]
    text = " ".join(pdf_text(pdf).split())  # the note beside the QR code shares lines with the steps
    assert says in text and "certificate.ipledger.json" in text
    assert certificate_from_pdf(pdf.read_bytes()) == cert
    html = render_certificate(cert, fmt="html", lang=lang, public_url=PUBLIC).decode()
    assert 'id="qr-without-certificate"' in html and ".ipledger.json" in html
    assert "qr-without-certificate" not in render_certificate(sample_certificate(), fmt="html", lang=lang,
                                                              public_url=PUBLIC).decode()


def test_verify_page_module_reads_the_compact_link_of_a_long_named_certificate() -> None:
    cert = BIG["1024-character Chinese file name"]()
    link = qr_link(cert, PUBLIC).url
    assert link != verify_url(cert, PUBLIC)
    script = ("const { certificateFromUrl } = await import(process.argv[1]);"
              "console.log(JSON.stringify(certificateFromUrl(process.argv[2])));")
    module = ROOT / "api" / "web" / "static" / "js" / "cert-from-url.js"
    done = subprocess.run(["node", "--input-type=module", "-e", script, module.as_uri(), link],
                          capture_output=True, text=True, check=True, timeout=60)
    parsed = Certificate.model_validate(json.loads(done.stdout))
    assert checked_fields(parsed) == checked_fields(cert) and parsed.file_name == "发" * (LINK_NAME_CHARS - 1) + "…"


def test_render_certificate_in_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="--lang zh or --lang en"):
        render_certificate(sample_certificate(), lang="fr", public_url=PUBLIC)


def test_locale_of_accepts_the_ways_people_write_the_two_languages() -> None:
    assert [locale_of(x) for x in ("zh", "zh-CN", "zh_CN", "en", "en-GB", "EN")] == ["zh_CN"] * 3 + ["en"] * 3


def test_documents_catalog_translates_every_message_of_the_templates() -> None:
    from babel.messages.extract import extract_from_dir

    folder = ROOT / "ledger" / "documents"
    catalog = translations("zh_CN")
    untranslated = sorted({
        (message if isinstance(message, str) else message[0])
        for _f, _l, message, _c, _x in extract_from_dir(
            str(folder), [("templates/**.html", "jinja2.ext:babel_extract")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}})
        if catalog.gettext(message if isinstance(message, str) else message[0])
        == (message if isinstance(message, str) else message[0])
    } - {"SHA-256"})
    assert untranslated == []
    assert [label for label in TOTAL_LABELS.values() if catalog.gettext(label) == label] == []


def test_chart_svg_draws_a_bar_per_day_scaled_to_the_busiest() -> None:
    svg = chart_svg([("2026-05-01", 2), ("2026-05-02", 0), ("2026-05-03", 4)], "Events <per> day")
    assert svg.startswith("<svg") and svg.count("<rect") == 3 and "Events &lt;per&gt; day" in svg
    assert 'height="156.0"' in svg  # the busiest day fills the plot (220 - 40 - 24)


def test_totals_svg_draws_a_labelled_bar_per_total() -> None:
    svg = totals_svg([("资产登记", 3), ("Sales", 0)], "Totals")
    assert svg.count("<rect") == 2 and "资产登记" in svg and ">3</text>" in svg
