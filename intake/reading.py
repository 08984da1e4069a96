"""Reading a message's documents in the parser sandbox: one task per attachment (`start_reading`,
`finish_reading`), or a unit's whole message in one task (`read_message`). What a file is and how it is
read is intake/documents.py; this module runs those readers where a crash or a hang costs one file."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from intake.containers import MAX_FILES
from intake.documents import Documents, ScanTexts, read_attachment, record_failure
from intake.errors import DocumentError
from intake.message import Attachment, ParsedMail, Sender, parse_message
from intake.sandbox import Sandbox, SandboxFailure


@dataclass
class Reading:
    """Attachments being read in the sandbox: started as soon as the sender is known to be a unit's
    address, collected when the message is stored, so parsing overlaps the storing of earlier messages.
    `done`: already read, with the message's MIME parse, in one task (see `read_message`)."""

    attachments: list[Attachment]
    futures: list[Future[Documents]]
    done: Documents | None = None


def start_reading(attachments: list[Attachment], sandbox: Sandbox, scans: ScanTexts | None = None) -> Reading:
    """Hand every attachment to the sandbox's workers and return at once. `scans` is the OCR queue's text
    of the message's scans once it has run (a scan it could not read needs a person); None before, when
    scans are left for it."""
    return Reading(attachments, [sandbox.submit(read_attachment, att, scans) for att in attachments[:MAX_FILES]])


def _too_many(doc: Documents, attachments: list[Attachment]) -> None:
    if len(attachments) > MAX_FILES:
        record_failure(doc, DocumentError(attachments[MAX_FILES].filename, "too_many_files", "too many files"))


def finish_reading(reading: Reading) -> Documents:
    """Wait for the readers of `start_reading`; a file that crashes or overruns its reader is a problem of
    its own, and the others are still read."""
    if reading.done is not None:
        return reading.done
    doc = Documents()
    for att, future in zip(reading.attachments, reading.futures):
        try:
            part = Sandbox.result(future)
        except SandboxFailure as exc:
            record_failure(doc, DocumentError(att.filename, "parser_limit", str(exc)))
            doc.review_reasons.append(f"{att.filename}: {exc}")
            continue
        doc.merge(part)
    _too_many(doc, reading.attachments)
    return doc


def read_message(raw: bytes, sender: Sender | None = None) -> tuple[ParsedMail, Documents]:
    """A unit's message in one sandbox task: its MIME parse and every file read, so its bytes cross to the
    worker once and come back as a reading (the attachments' bytes stay there: the mail returned names
    them only). Only for a message whose sender screening has let through from its header block (intake/
    pipeline.py `reads_at_once`); `sender` is that header block's identity, not parsed again. Should the task
    die, the caller parses and reads again one file per task, so that the file at fault is the only one lost."""
    mail = parse_message(raw, sender=sender)
    doc = Documents()
    for att in mail.attachments[:MAX_FILES]:
        doc.merge(read_attachment(att, None))
    _too_many(doc, mail.attachments)
    mail.attachments = [Attachment(a.filename, a.content_type, b"") for a in mail.attachments]
    return mail, doc


Read = tuple[ParsedMail, Documents]


def read_messages(read: Callable[[bytes, Sender | None], Read],
                  items: list[tuple[bytes, Sender | None]]) -> list[Read | Exception]:
    """Several of a backlog's messages in one sandbox task, each as `read` (`read_message`) reads it: a task's
    own cost (pebble's hand-over both ways, ~0.18 ms of CPU across the two processes) is paid once for them all.
    A message that raises is answered with its error, in its place; should the task itself die or overrun, the
    caller parses and reads each of them again alone (`bot.lookahead`), so a file at fault still costs only
    itself. `read` is passed, not imported here, so that it is the caller's reader (pickled by reference)."""
    out: list[Read | Exception] = []
    for raw, sender in items:
        try:
            out.append(read(raw, sender))
        except MemoryError:  # the worker's limit: the task fails, and each message is read alone
            raise
        except Exception as exc:  # noqa: BLE001 - its own answer; the others are still read
            out.append(exc)
    return out


def read_documents(attachments: list[Attachment], sandbox: Sandbox, scans: ScanTexts | None = None) -> Documents:
    """Read every attachment in the sandbox and wait for all of them."""
    return finish_reading(start_reading(attachments, sandbox, scans))
