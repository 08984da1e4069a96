"""Group commit's look-ahead: the messages of a batch prepared a few at a time ahead of storing them."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future

from intake.message import ParsedMail, parse_message
from intake.pipeline import Fetched, IntakeContext, Prepared, prepare


class LookAhead:
    """The batch's messages in order, each prepared a few messages before it is stored, in two stages:

    1. up to MESSAGES (and BYTES) ahead, its raw bytes go to the sandbox's workers to be MIME-parsed (a
       hostile MIME structure then costs a worker, not this process, and parsing leaves the storing core);
       a batch smaller than MESSAGES (the trickle between backlogs) is parsed here: there is little to
       overlap, and starting the workers for it would cost more than its parsing;
    2. up to SCREENED ahead, the parsed message is screened here (from headers alone) and, for a unit's
       address only, its files are handed to the same workers to be read.
    So the parser processes parse and read while this one writes. Bounded in messages and in bytes: a
    backlog of large messages must not be parsed into memory all at once."""

    MESSAGES = 8
    SCREENED = 3
    BYTES = 64 * 1024 * 1024

    def __init__(self, ctx: IntakeContext, batch: list[Fetched]) -> None:
        self.ctx = ctx
        self.waiting = deque(batch)
        self.parsing: deque[tuple[Fetched, Future[ParsedMail]]] = deque()
        self.ready: deque[tuple[Fetched, Prepared | Exception]] = deque()
        self.ready_bytes = 0  # raw bytes held by messages handed to the parsers and not yet stored
        self.parse_in_sandbox = len(batch) >= self.MESSAGES

    @property
    def pending(self) -> bool:
        return bool(self.ready or self.parsing or self.waiting)

    def next(self) -> tuple[Fetched, Prepared | Exception]:
        self._fill()
        fetched, prepared = self.ready.popleft()
        self.ready_bytes -= len(fetched.raw)
        self._fill()  # hand the next messages to the parsers before this one is stored
        return fetched, prepared

    def _parse(self, raw: bytes) -> Future[ParsedMail]:
        # A message over the size limit is parsed here, as before: screening then answers "too large"
        # instead of a parser running out of its memory on it.
        if self.parse_in_sandbox and len(raw) <= self.ctx.max_message_bytes:
            return self.ctx.sandbox.submit(parse_message, raw)
        parsed: Future[ParsedMail] = Future()
        try:
            parsed.set_result(parse_message(raw))
        except Exception as exc:  # noqa: BLE001 - raised again where the sandbox's result would be
            parsed.set_exception(exc)
        return parsed

    def _fill(self) -> None:
        while self.waiting and (not self.parsing and not self.ready or (
                len(self.parsing) + len(self.ready) < self.MESSAGES
                and self.ready_bytes + len(self.waiting[0].raw) <= self.BYTES)):
            fetched = self.waiting.popleft()
            self.parsing.append((fetched, self._parse(fetched.raw)))
            self.ready_bytes += len(fetched.raw)
        while self.parsing and len(self.ready) < self.SCREENED:
            fetched, parsed = self.parsing.popleft()
            try:
                prepared: Prepared | Exception = prepare(fetched, self.ctx, mail=self.ctx.sandbox.result(parsed))
            except Exception as exc:  # noqa: BLE001 - quarantined when its turn comes, like any reading error
                prepared = exc
            self.ready.append((fetched, prepared))
