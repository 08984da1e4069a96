"""How wide a text is in the workbook's Thai font, so that a column is as wide as what it holds (a clipped status
or time is a misread report). Advance widths (in ems) of Laksaman, the Thai font LibreOffice falls back to where TH
Sarabun New is absent (fonts-thai-tlwg, read with fontTools); TH Sarabun New is narrower, so a column wide enough
for Laksaman is wide enough for both. Thai vowel and tone marks above and below the line take no width."""

from __future__ import annotations

import unicodedata

_CHARS = (
    ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ['
    '\\]^_`abcdefghijklmnopqrstuvwxyz{|}~กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธน'
    'บปผฝพฟภมยรฤลฦวศษสหฬอฮฯะัาำิีึืฺุู฿เแโใไๅๆ็่้๊๋์ํ๎๏๐๑๒๓๔๕๖๗๘๙'
    '๚๛'
)
_EMS = (
    "324,221,312,606,543,879,636,180,285,285,428,618,243,324,243,406,544,544,544,544,544,544,544,544,544,544,"
    "243,243,618,618,618,425,806,601,568,610,648,527,527,639,663,221,397,565,530,824,663,731,568,732,570,529,"
    "570,700,586,884,628,550,637,294,394,294,619,529,306,517,603,497,603,562,309,467,586,215,233,475,300,904,"
    "586,598,603,603,326,424,357,586,512,762,478,506,482,312,230,312,625,580,568,574,591,591,613,442,552,567,"
    "568,574,780,780,639,639,515,693,800,816,588,588,568,646,503,631,643,643,573,573,672,672,639,601,564,484,"
    "568,573,639,503,591,658,573,642,682,582,559,588,536,0,475,475,0,0,0,0,0,0,0,618,305,567,356,364,367,308,"
    "600,0,0,0,0,0,0,0,0,676,675,675,675,675,675,675,675,675,675,675,785,1048"
)
EM: dict[str, float] = dict(zip(_CHARS, (int(w) / 1000 for w in _EMS.split(",")), strict=True))
OTHER_EM = 0.75  # a character the table lacks (a symbol, another script): wide, to be safe
BOLD = 1.06  # Laksaman Bold's advance widths against its regular's, on average
DIGIT_PX = 8.0  # a column width unit, in pixels: the default font's digit is 7 (Calibri, Excel) to 9.3 (DejaVu Sans,
# LibreOffice without Calibri); measured here, LibreOffice showed "ส่งครบถ้วน แต่ล่าช้ากว่ากำหนด" whole from width 26, a
# Thai date and time from 30, a long address from 42; at 8 this module asks 30, 35 and 50.
PADDING_PX = 10.0  # the cell's margins and its border


def ems(text: str) -> float:
    """The advance of `text` in ems: its widest line."""
    return max((sum(EM.get(ch, 0.0 if unicodedata.combining(ch) else OTHER_EM) for ch in line)
                for line in text.split("\n")), default=0.0)


def column_units(text: str, size: float = 14, bold: bool = False) -> float:
    """The column width (in a spreadsheet's units) that shows `text` unclipped at `size` points."""
    pixels = ems(text) * size * 96 / 72 * (BOLD if bold else 1.0)
    return (pixels + PADDING_PX) / DIGIT_PX
