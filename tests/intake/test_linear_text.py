"""Every text function of intake and privacy runs in linear time on hostile text (docs/spec.md, "Trust").

Sender text drives these functions; a quadratic pattern there holds the GIL for seconds and stalls
the worker, its scheduler and its outbox. Each function gets 100 KB strings built to make
backtracking patterns explode (long runs of spaces after a keyword, repeated month names, digits,
dots, unclosed brackets) and must answer within 50 ms of this thread's own CPU time (best of five), or grow
no faster than linearly from a quarter of the text to the whole. CPU time, not the wall clock: the work the
function does, which other processes on a busy machine (the suite runs in two) do not add to. The quadratic
versions took 11-20 s on such strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from config.privacy import mask_name, mask_text
from config.units import Unit, UnitRegistry
from intake.bounces import parse_bounce
from intake.dates import BadDate, parse_date
from intake.documents import filename_periods_text
from intake.labels import category_of, norm, result_of
from intake.message import Attachment, decode_header_value, parse_message
from intake.text import html_to_text, nil_statement, strip_quoted
from intake.reply_words import _parse_line
from scoring.periods import Period, find_periods, find_tag_period

SIZE = 100_000
LIMIT = 0.050  # below this a run is fast whatever its growth
CEILING = 1.0  # above this a run is too slow whatever its growth
GROWTH = 6.0  # time at 4x the text over time at 1x: linear is ~4, quadratic ~16


def _fill(prefix: str, unit: str, suffix: str = "x") -> str:
    body = unit * ((SIZE - len(prefix) - len(suffix)) // len(unit))
    return prefix + body + suffix


def _quarter(text: str) -> str:
    """The same hostile shape at a quarter of the size: its head and tail kept, its repeated middle cut."""
    cut = len(text) * 3 // 4
    head = min(64, len(text) // 8)
    return text[:head] + text[head + cut:]


ADVERSARIAL = {
    "spaces": _fill("", " "),
    "month then spaces": _fill("Nov.", " "),
    "thai month then spaces": _fill("พฤศจิกายน", " "),
    "repeated months": _fill("", "Nov. พ.ย. "),
    "repeated thai months": _fill("", "ประจำเดือนพฤศจิกายน "),
    "dots": _fill("", "."),
    "digits": _fill("", "1"),
    "digits and spaces": _fill("", "1 "),
    "digit slash": _fill("", "1/"),
    "on then spaces": _fill("On x", " "),
    "thai on then spaces": _fill("เมื่อ x", " "),
    "wrote then spaces": _fill("On x wrote", " "),
    "newline spaces": _fill("\n", " \n "),
    "open brackets": _fill("", "<"),
    "encoded word starts": _fill("", "=?utf-8?q?"),
    "letters": _fill("", "a"),
    "at signs": _fill("", "a@b."),
    "word chars then at": _fill("", "a.") + "@",
    "thai has then spaces": _fill("มีข้อเสนอแนะ", " "),
    "nil then spaces": _fill("ไม่มีข้อร้องเรียน แต่", " "),
    "honorifics": _fill("", "นาย "),
    "dashes": _fill("", "-"),
    "message ids": _fill("Message-ID: ", "<"),
}


def _registry() -> UnitRegistry:
    return UnitRegistry([Unit("HPC01", "ศูนย์อนามัยที่ 1 เชียงใหม่", ("a@x.example",), ("a@x.example",), True)])


def _dates(text: str) -> object:
    try:
        return parse_date(text)
    except BadDate:
        return None


def _mail_with(text: str) -> bytes:
    return (f"From: a@x.example\r\nSubject: {text[:5000]}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{text}\r\n").encode()


REGISTRY = _registry()
FUNCTIONS: dict[str, Callable[[str], object]] = {
    # One line without the 300-character cap, after each command word: the patterns themselves are linear.
    "staff command line": lambda t: [_parse_line(1, word + t, Period(2026, 11), lambda c: True, True)
                                     for word in ("", "ยกเว้น A ", "รับทางกระดาษ A ", "หน่วยงาน A ", "#1 ", "ยกเลิก ")],
    "find_periods": find_periods,
    "find_tag_period": find_tag_period,
    "strip_quoted": strip_quoted,
    "nil_statement": nil_statement,
    "html_to_text": html_to_text,
    "html_to_text(pre)": lambda t: html_to_text(f"<pre>{t}</pre>"),
    "decode_header_value": decode_header_value,
    "parse_date": _dates,
    "norm": norm,
    "category_of": category_of,
    "result_of": result_of,
    "filename_periods_text": lambda t: filename_periods_text([Attachment(t, "", b"")]),
    "parse_message": lambda t: parse_message(_mail_with(t)),
    "parse_bounce": lambda t: parse_bounce(
        b"From: mailer-daemon@x\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/rfc822-headers\r\n\r\n" + t.encode() + b"\r\n--b--\r\n"),
    "mask_text": mask_text,
    "mask_name": mask_name,
    "find_by_name": REGISTRY.find_by_name,
}


def _best_of(fn: Callable[[str], object], text: str, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        fn(text)
        best = min(best, time.thread_time() - started)
        if best < LIMIT / 4:
            break
    return best


def _superlinear(fn: Callable[[str], object], text: str) -> str | None:
    """Why `fn` is not linear on `text`, or None. A wall-clock limit alone is flaky on a busy machine, so a
    slow run is judged by how its time grows from a quarter of the text to the whole."""
    big = _best_of(fn, text)
    if big < LIMIT:
        return None
    if big >= CEILING:
        return f"{big * 1000:.0f} ms"
    small = max(_best_of(fn, _quarter(text)), 1e-4)
    if big / small > GROWTH:  # measured apart, a busy machine's pace may have moved between them: again, in turns
        for _ in range(5):
            big, small = min(big, _best_of(fn, text, 1)), max(min(small, _best_of(fn, _quarter(text), 1)), 1e-4)
    return f"{big * 1000:.0f} ms, {big / small:.1f}x at 4x the size" if big / small > GROWTH else None


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_text_function_is_linear_on_hostile_text(name: str) -> None:
    fn = FUNCTIONS[name]
    slow = {label: why for label, text in ADVERSARIAL.items() if (why := _superlinear(fn, text))}
    assert slow == {}, f"{name} on hostile text: {slow}"
