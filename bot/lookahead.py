"""Group commit's look-ahead: the messages of a batch prepared a few at a time ahead of storing them."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from intake.message import ParsedMail, parse_message
from intake.context import Fetched, IntakeContext
from intake.pipeline import Prepared, parse_for, prepare, reads_at_once
from intake.reading import read_message
from intake.sandbox import SandboxFailure


@dataclass(frozen=True)
class Parsing:
    """A message handed to the workers: its MIME parse alone, or (`whole`) its parse and every file read
    in one task; or parsed here already (`here`: the parse, or the error it raised)."""

    future: Future[Any] | None  # of a ParsedMail, or (whole) of a (ParsedMail, Documents)
    whole: bool = False
    here: ParsedMail | Exception | None = None

    @property
    def done(self) -> bool:
        return self.future is None or self.future.done()


class LookAhead:
    """The batch's messages in order, each prepared a few messages before it is stored, in two stages:

    1. up to MESSAGES (and BYTES) ahead, its raw bytes go to the sandbox's workers to be MIME-parsed (a
       hostile MIME structure then costs a worker, not this process, and parsing leaves the storing core).
       When its header block, screened here, already shows a unit's authenticated address (nearly every
       message of a backlog), the same task reads its files too: one task, its bytes sent once. A batch
       smaller than IN_SANDBOX_FROM (the trickle between backlogs) is parsed here: there is little to
       overlap, and starting the workers for it would cost more than its parsing;
    2. up to SCREENED ahead, the parsed message is screened here and, for a unit's address only, its files
       are handed to the same workers to be read (unless step 1 read them).
    So the parser processes parse and read while this one writes. Bounded in messages and in bytes: a
    backlog of large messages must not be parsed into memory all at once."""

    # Deep enough that the workers read ahead while this process stores, and this process finds readings
    # done while the workers read: the two sides cost about the same per message, so a shallow look-ahead
    # leaves one waiting for the other (8 ahead: 13-16 % of a backlog's time waiting for readings; 24: 8-9 %).
    MESSAGES = 24
    SCREENED = 3
    IN_SANDBOX_FROM = 8
    BYTES = 64 * 1024 * 1024

    def __init__(self, ctx: IntakeContext, batch: list[Fetched] | None = None) -> None:
        self.ctx = ctx
        self.waiting: deque[Fetched] = deque()
        self.parsing: deque[tuple[Fetched, Parsing]] = deque()
        self.ready: deque[tuple[Fetched, Prepared | Exception]] = deque()
        self.ready_bytes = 0  # raw bytes held by messages handed to the parsers and not yet stored
        self.parse_in_sandbox = False
        for fetched in batch or []:
            self.add(fetched)

    def add(self, fetched: Fetched) -> None:
        """The batch's next message, while the rest is still being fetched: once the batch is a backlog's (at
        least IN_SANDBOX_FROM messages), its messages go to the parsers as they come, so the workers parse
        while the mailbox is read (a backlog's fetch, a seventh of its time, left them idle when the batch
        was handed over only once whole). Nothing waits here for a parse; `next` does."""
        self.waiting.append(fetched)
        if not self.parse_in_sandbox and len(self.waiting) + len(self.parsing) >= self.IN_SANDBOX_FROM:
            self.parse_in_sandbox = True
        if self.parse_in_sandbox:
            # Parsers that cannot start now are tried again when the batch is stored, where that failure leaves
            # the whole batch for the next poll (bot/service.py `_settle`), as it always did.
            try:
                self._start()
            except Exception:  # noqa: BLE001 - see above
                pass

    @property
    def pending(self) -> bool:
        return bool(self.ready or self.parsing or self.waiting)

    def next(self) -> tuple[Fetched, Prepared | Exception]:
        self._fill()
        fetched, prepared = self.ready.popleft()
        self.ready_bytes -= len(fetched.raw)
        self._fill()  # hand the next messages to the parsers before this one is stored
        return fetched, prepared

    def _parse(self, fetched: Fetched) -> Parsing:
        # A message over the size limit has its header block parsed here (see parse_for): screening then
        # answers "too large" instead of a parser running out of its memory on it.
        raw = fetched.raw
        if self.parse_in_sandbox and len(raw) <= self.ctx.max_message_bytes:
            try:
                head = parse_message(raw, body=False)
                whole = reads_at_once(head, fetched, self.ctx)
            except Exception:  # noqa: BLE001 - screening meets it again in `prepare`, where it quarantines
                whole = False
            if whole:
                sender = (head.from_addr, head.from_name, head.sender_problem)
                return Parsing(self.ctx.sandbox.submit(read_message, raw, sender), whole=True)
            return Parsing(self.ctx.sandbox.submit(parse_message, raw))
        try:
            return Parsing(None, here=parse_for(fetched, self.ctx))
        except Exception as exc:  # noqa: BLE001 - raised again where the sandbox's result would be
            return Parsing(None, here=exc)

    def _prepared(self, fetched: Fetched, parsing: Parsing) -> Prepared:
        if parsing.future is None:
            if isinstance(parsing.here, Exception):
                raise parsing.here
            return prepare(fetched, self.ctx, mail=parsing.here)
        try:
            parsed = self.ctx.sandbox.result(parsing.future)
        except SandboxFailure:
            if not parsing.whole:
                raise
            # Its parse or one of its files killed or overran the task: parse alone, then one task per file,
            # so that only the part at fault is lost (a MIME parse that dies again quarantines the message).
            return prepare(fetched, self.ctx, mail=self.ctx.sandbox.run(parse_message, fetched.raw))
        if isinstance(parsed, tuple):
            return prepare(fetched, self.ctx, mail=parsed[0], documents=parsed[1])
        return prepare(fetched, self.ctx, mail=parsed)

    def _start(self) -> None:
        """Stage 1: hand waiting messages to the parsers, within the look-ahead's bounds."""
        while self.waiting and (not self.parsing and not self.ready or (
                len(self.parsing) + len(self.ready) < self.MESSAGES
                and self.ready_bytes + len(self.waiting[0].raw) <= self.BYTES)):
            fetched = self.waiting[0]
            parsing = self._parse(fetched)  # may raise (the pool cannot start): the message stays waiting
            self.waiting.popleft()
            self.parsing.append((fetched, parsing))
            self.ready_bytes += len(fetched.raw)

    def _fill(self) -> None:
        self._start()
        while self.parsing and len(self.ready) < self.SCREENED:
            if self.ready and not self.parsing[0][1].done:
                break  # wait only for the message stored next: the others are screened when their parse is in
            fetched, parsed = self.parsing.popleft()
            try:
                prepared: Prepared | Exception = self._prepared(fetched, parsed)
            except Exception as exc:  # noqa: BLE001 - quarantined when its turn comes, like any reading error
                prepared = exc
            self.ready.append((fetched, prepared))
