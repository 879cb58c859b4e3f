"""Reading documents back as a person or a phone would: the PDF's text (pdftotext), its QR code
(pdftoppm, then zbarimg). Missing tools are a failure with the package to install, never a skip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `apt-get install {package}` (.ci/run does it)", pytrace=False)
    return found


def pdf_text(pdf: Path) -> str:
    """The PDF's text in reading order, spaces collapsed (columns become one line each)."""
    done = subprocess.run([tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"], capture_output=True,
                          check=True, timeout=60)
    return done.stdout.decode()


def qr_codes(pdf: Path, tmp: Path) -> list[str]:
    """Every QR code printed in the PDF, decoded (the pages rasterised at 200 dpi)."""
    prefix = tmp / pdf.stem
    subprocess.run([tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", str(pdf), str(prefix)], check=True,
                   timeout=120)
    codes: list[str] = []
    for image in sorted(tmp.glob(f"{pdf.stem}*.png")):
        done = subprocess.run([tool("zbarimg", "zbar-tools"), "-q", "--raw", "-Sdisable", "-Sqrcode.enable",
                               str(image)], capture_output=True, timeout=60)
        codes += [line for line in done.stdout.decode().splitlines() if line]
    return codes
