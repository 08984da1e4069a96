"""Text from scanned memos: Tesseract with Thai (an optional system package), pdftoppm for scanned PDFs."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

OCR_TIMEOUT = 60  # seconds per page
MAX_PAGES = 3  # a memo is short; a 40-page scan is not a memo


class OcrUnavailable(Exception):
    """Tesseract or its Thai data is not installed; a person must read the document."""


@functools.lru_cache(maxsize=1)
def ocr_languages() -> frozenset[str]:
    """Installed Tesseract languages (empty when Tesseract is missing); asked once per process."""
    exe = shutil.which("tesseract")
    if not exe:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def _tesseract(image: Path) -> str:
    langs = ocr_languages()
    if "tha" not in langs:
        raise OcrUnavailable("tesseract-ocr-tha is not installed")
    lang = "tha+eng" if "eng" in langs else "tha"
    proc = subprocess.run(["tesseract", str(image), "-", "-l", lang], capture_output=True, timeout=OCR_TIMEOUT)
    return normalize_ocr(proc.stdout.decode("utf-8", errors="replace"))


def normalize_ocr(text: str) -> str:
    """Tesseract writes sara am as nikhahit + sara aa; fold it so words match."""
    return text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0e4d \u0e32", "\u0e33")


def ocr_image(data: bytes, suffix: str = ".png") -> str:
    with tempfile.TemporaryDirectory(prefix="cb-ocr-") as tmp:
        path = Path(tmp) / f"page{suffix}"
        path.write_bytes(data)
        return _tesseract(path)


def ocr_pdf(data: bytes) -> str:
    """Render the first pages of a scanned PDF and read them."""
    if not shutil.which("pdftoppm"):
        raise OcrUnavailable("pdftoppm (poppler-utils) is not installed")
    if "tha" not in ocr_languages():
        raise OcrUnavailable("tesseract-ocr-tha is not installed")
    with tempfile.TemporaryDirectory(prefix="cb-ocr-") as tmp:
        pdf = Path(tmp) / "in.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-l", str(MAX_PAGES), str(pdf), str(Path(tmp) / "p")],
                       capture_output=True, timeout=OCR_TIMEOUT, check=False)
        return "\n".join(_tesseract(page) for page in sorted(Path(tmp).glob("p*.png")))
