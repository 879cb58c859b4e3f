"""Chinese documents on a machine without a CJK font are refused, loudly and before anything is written or sent,
instead of printing every Chinese character as an empty box. The end-to-end cases point fontconfig at a
configuration whose only font folder holds one Latin font (``FONTCONFIG_FILE``): ``fc-list :lang=zh`` then lists
nothing in that process, as on a server with no CJK font installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ledger.documents import fonts
from ledger.documents.certificate import render_certificate
from ledger.errors import ConfigurationError
from tests.cliproc import run_ipledger
from tests.ledger.documents.test_documents_render import PUBLIC, sample_certificate

FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_check_refuses_chinese_without_a_cjk_font_and_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="apt-get install fonts-noto-cjk") as refused:
        fonts.check_fonts(12, 0, needs_cjk=True)
    assert "Chinese" in str(refused.value) and refused.value.context["fix"] == fonts.FIX
    fonts.check_fonts(12, 0, needs_cjk=False)  # an English document in Latin letters prints
    fonts.check_fonts(12, 3, needs_cjk=True)
    fonts.check_fonts(None, None, needs_cjk=True)  # fontconfig could not be asked: WeasyPrint decides
    with pytest.raises(ConfigurationError, match="no fonts at all"):
        fonts.check_fonts(0, 0, needs_cjk=False)


def test_cjk_text_is_told_from_latin() -> None:
    assert fonts.has_cjk(["<p>发明说明书</p>"]) and fonts.has_cjk(["claims\uff08final\uff09"])
    assert not fonts.has_cjk(["<p>Timestamp certificate — claims.pdf, naïve café</p>"])


def test_this_machine_has_a_cjk_font() -> None:  # .ci/run installs fonts-noto-cjk; the documents' tests need it
    assert (fonts.fontconfig_fonts(b":lang=zh-cn") or 0) > 0


def test_rendering_a_pdf_with_chinese_without_a_cjk_font_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_fonts_of_this_process", lambda: (40, 0))
    with pytest.raises(ConfigurationError, match="fonts-noto-cjk"):
        render_certificate(sample_certificate("claims.pdf"), fmt="pdf", lang="zh", public_url=PUBLIC)
    with pytest.raises(ConfigurationError, match="fonts-noto-cjk"):  # a Chinese file name in an English one
        render_certificate(sample_certificate("发明说明书.pdf"), fmt="pdf", lang="en", public_url=PUBLIC)
    assert render_certificate(sample_certificate("claims.pdf"), fmt="pdf", lang="en", public_url=PUBLIC)
    assert render_certificate(sample_certificate("发明说明书.pdf"), fmt="html", lang="zh", public_url=PUBLIC)


def latin_font() -> Path:
    """A font of this machine without Chinese (DejaVu, Liberation...: what a server has without fonts-noto-cjk)."""
    def files(query: str) -> set[str]:
        listed = subprocess.run(["fc-list", "--format", "%{file}\n", query], capture_output=True, text=True,
                                check=True, timeout=60).stdout
        return {line for line in listed.splitlines() if line.endswith((".ttf", ".otf"))}

    return Path(sorted(files(":lang=en") - files(":lang=zh"))[0])


@pytest.fixture
def latin_only(tmp_path: Path) -> dict[str, str]:
    """The environment of a process whose fontconfig finds one Latin font and no CJK font."""
    folder = tmp_path / "fonts"
    folder.mkdir()
    font = latin_font()
    (folder / font.name).symlink_to(font)
    config = tmp_path / "fonts.conf"
    config.write_text(FONTCONFIG.format(fonts=folder, cache=tmp_path / "fc-cache"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPLEDGER_")}
    environment.update({"IPLEDGER_DATA_DIR": str(tmp_path / "data"), "FONTCONFIG_FILE": str(config),
                        "COLUMNS": "200"})
    return environment


def refused(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "apt-get install fonts-noto-cjk" in done.stderr and "Traceback" not in done.stderr


def test_commands_writing_chinese_pdfs_without_a_font_exit_2_and_write_nothing(
        tmp_path: Path, latin_only: dict[str, str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = work / "claims.pdf.ipledger.json"
    source.write_text(sample_certificate("claims.pdf").dumps())
    refused(run_ipledger(["certificate", "render", str(source), "--format", "pdf"], env=latin_only, cwd=work))
    notes = work / "notes.txt"
    notes.write_text("a result")
    refused(run_ipledger(["stamp", str(notes), "--pdf"], env=latin_only, cwd=work))  # before anything is sent
    refused(run_ipledger(["check", "1", "--maturity", "2030-06-30", "--pdf", str(work / "dd.pdf")],
                         env=latin_only, cwd=work))
    refused(run_ipledger(["audit", "report", "--from", "2026-05-01", "--to", "2026-05-31", "--pdf",
                          str(work / "audit.pdf")], env=latin_only, cwd=work))
    assert sorted(p.name for p in work.iterdir()) == ["claims.pdf.ipledger.json", "notes.txt"]
    assert not (tmp_path / "data" / "devchain").exists()  # no chain was started for what could not be printed
    for fmt in ("html", "pdf"):  # HTML leaves the fonts to the browser; an English PDF in Latin letters prints
        done = run_ipledger(["certificate", "render", str(source), "--format", fmt, "--lang", "en"], env=latin_only,
                            cwd=work)
        assert done.returncode == 0, done.stderr
    assert (work / "claims.pdf.ipledger.pdf").read_bytes().startswith(b"%PDF-")
