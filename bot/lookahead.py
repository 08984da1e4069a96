"""Group commit's look-ahead: the messages of a batch prepared a few at a time ahead of storing them."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from intake.message import ParsedMail, Sender, parse_message
from intake.context import Fetched, IntakeContext
from intake.pipeline import Prepared, parse_for, prepare, reads_at_once
from intake.reading import Read, read_message, read_messages
from intake.sandbox import ParsersUnavailable, SandboxFailure


class _Group:
    """Messages read in one task (`read_messages`); its answer is unpickled once, for all of them."""

    def __init__(self, future: Future[Any]) -> None:
        self.future = future
        self.outcome: list[Read | Exception] | Exception | None = None


@dataclass(frozen=True)
class Parsing:
    """A message handed to the workers: its MIME parse alone, or (`whole`) its parse and every file read
    in one task, alone or (`group`, at `index`) with a few others; or parsed here already (`here`: the parse,
    or the error it raised)."""

    future: Future[Any] | None  # of a ParsedMail, or (whole) of a (ParsedMail, Documents)
    whole: bool = False
    here: ParsedMail | Exception | None = None
    group: _Group | None = None
    index: int = 0

    @property
    def done(self) -> bool:
        if self.group is not None:
            return self.group.future.done()
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
    backlog of large messages must not be parsed into memory all at once.

    A unit's messages of up to GROUP_BYTES go GROUP to a task (`read_messages`): a task's hand-over costs
    ~0.18 ms of CPU between the two processes whatever it carries, ~7 % of a message's reading. Should a
    group's task die or overrun, each of its messages is parsed alone and read one file per task, as a
    message whose own task died is, so a file at fault still costs only itself (and its message's
    group-mates one more parse)."""

    # Deep enough that the workers read ahead while this process stores, and this process finds readings
    # done while the workers read: the two sides cost about the same per message, so a shallow look-ahead
    # leaves one waiting for the other (8 ahead: 13-16 % of a backlog's time waiting for readings; 24: 8-9 %).
    MESSAGES = 24
    # While a batch is fetched nothing is stored: its messages go to the workers as they come, up to this many and
    # FETCHING_BYTES of them, so that the workers read through the fetch instead of idling once MESSAGES are read
    # (the cores were busy 80-81 % of a backlog's time with 24, 82-84 % with this; four runs each). The bytes are
    # bounded tighter than BYTES: a reading can be several times its message (large workbooks), and it is held
    # until its message is stored.
    FETCHING = 200
    FETCHING_BYTES = 16 * 1024 * 1024
    SCREENED = 3
    IN_SANDBOX_FROM = 8
    BYTES = 64 * 1024 * 1024
    GROUP = 4
    GROUP_BYTES = 1024 * 1024

    def __init__(self, ctx: IntakeContext, batch: list[Fetched] | None = None) -> None:
        self.ctx = ctx
        self.waiting: deque[Fetched] = deque()
        self.parsing: deque[tuple[Fetched, Parsing]] = deque()
        self.ready: deque[tuple[Fetched, Prepared | Exception]] = deque()
        self.grouping: list[tuple[Fetched, Sender]] = []  # handed over, their task not yet started (a group forming)
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
                self._start(flush=False, window=self.FETCHING, window_bytes=min(self.FETCHING_BYTES, self.BYTES))
            except Exception:  # noqa: BLE001 - see above
                pass

    @property
    def pending(self) -> bool:
        return bool(self.ready or self.parsing or self.grouping or self.waiting)

    @property
    def handed_over(self) -> bool:
        """Every message left is with the workers or read, fewer than they read ahead: they will run out of work
        unless more messages come (the next batch's, `bot.fetching.Batches.top_up`)."""
        return not self.waiting and len(self.parsing) + len(self.grouping) + len(self.ready) < self.MESSAGES

    def next(self) -> tuple[Fetched, Prepared | Exception]:
        self._fill()
        fetched, prepared = self.ready.popleft()
        self.ready_bytes -= len(fetched.raw)
        self._fill()  # hand the next messages to the parsers before this one is stored
        return fetched, prepared

    def taking(self, taken: list[tuple[Fetched, Prepared | Exception]]) -> Iterator[tuple[Fetched, Prepared | Exception]]:
        """`next` until none is pending, each message also kept in `taken` (a transaction that fails is stored
        again from what it took: bot/storing.py)."""
        while self.pending:
            item = self.next()
            taken.append(item)
            yield item

    def _reads_whole(self, fetched: Fetched) -> Sender | None:
        """The sender's identity from the header block when the workers may parse the message and read its files
        in one task (`reads_at_once`); None when it is parsed alone, or here. A message over the size limit has its
        header block parsed here (see parse_for): screening then answers "too large" instead of a parser running
        out of its memory on it."""
        if not self.parse_in_sandbox or len(fetched.raw) > self.ctx.max_message_bytes:
            return None
        try:
            head = parse_message(fetched.raw, body=False)
            whole = reads_at_once(head, fetched, self.ctx)
        except Exception:  # noqa: BLE001 - screening meets it again in `prepare`, where it quarantines
            return None
        return (head.from_addr, head.from_name, head.sender_problem) if whole else None

    def _parse(self, fetched: Fetched, sender: Sender | None) -> Parsing:
        if sender is not None:
            return Parsing(self.ctx.sandbox.submit(read_message, fetched.raw, sender), whole=True)
        if self.parse_in_sandbox and len(fetched.raw) <= self.ctx.max_message_bytes:
            return Parsing(self.ctx.sandbox.submit(parse_message, fetched.raw))
        try:
            return Parsing(None, here=parse_for(fetched, self.ctx))
        except Exception as exc:  # noqa: BLE001 - raised again where the sandbox's result would be
            return Parsing(None, here=exc)

    def _send_group(self) -> None:
        """Start the forming group's task (one message alone: `read_message`). Should the pool not start, the
        messages stay in the group, for the next try."""
        if len(self.grouping) == 1:
            fetched, sender = self.grouping[0]
            self.parsing.append((fetched, self._parse(fetched, sender)))
        elif self.grouping:
            group = _Group(self.ctx.sandbox.submit(read_messages, read_message,
                                                   [(fetched.raw, sender) for fetched, sender in self.grouping]))
            self.parsing.extend((fetched, Parsing(None, whole=True, group=group, index=i))
                                for i, (fetched, _) in enumerate(self.grouping))
        self.grouping = []

    def _prepared(self, fetched: Fetched, parsing: Parsing) -> Prepared:
        if parsing.group is not None:
            return self._member(fetched, parsing.group, parsing.index)
        if parsing.future is None:
            if isinstance(parsing.here, Exception):
                raise parsing.here
            return prepare(fetched, self.ctx, mail=parsing.here)
        try:
            parsed = self.ctx.sandbox.result(parsing.future)
        except SandboxFailure:
            if not parsing.whole:
                raise
            return self._read_alone(fetched)
        if isinstance(parsed, tuple):
            return prepare(fetched, self.ctx, mail=parsed[0], documents=parsed[1])
        return prepare(fetched, self.ctx, mail=parsed)

    def _read_alone(self, fetched: Fetched) -> Prepared:
        """A message whose task (its own or its group's) died or overran: parsed alone, then read one task per
        file, so that only the part at fault is lost (a MIME parse that dies again quarantines the message)."""
        return prepare(fetched, self.ctx, mail=self.ctx.sandbox.run(parse_message, fetched.raw))

    def _member(self, fetched: Fetched, group: _Group, index: int) -> Prepared:
        """A message read in a group's task: its reading, or the error it raised there. When the task itself
        failed (died, overran, or its answer could not travel) it is parsed alone, then read one file per task."""
        if group.outcome is None:
            try:
                group.outcome = self.ctx.sandbox.result(group.future)
            except Exception as exc:  # noqa: BLE001 - every member is read again alone, below
                group.outcome = exc
        if isinstance(group.outcome, ParsersUnavailable):
            raise group.outcome  # no worker can run: reading it alone would only ask again
        if isinstance(group.outcome, Exception):
            return self._read_alone(fetched)
        read = group.outcome[index]
        if isinstance(read, Exception):
            raise read
        return prepare(fetched, self.ctx, mail=read[0], documents=read[1])

    def _start(self, flush: bool = True, window: int | None = None, window_bytes: int | None = None) -> None:
        """Stage 1: hand waiting messages to the parsers, up to `window` messages and `window_bytes` ahead (MESSAGES
        and BYTES unless said); a unit's messages GROUP to a task. A group not yet full is started only when `flush`
        and either nothing else is being parsed (the storing side would wait for it) or no message is waiting (no
        more will join it)."""
        window, window_bytes = window or self.MESSAGES, window_bytes or self.BYTES
        while self.waiting and (not self.parsing and not self.ready and not self.grouping or (
                len(self.parsing) + len(self.grouping) + len(self.ready) < window
                and self.ready_bytes + len(self.waiting[0].raw) <= window_bytes)):
            fetched = self.waiting[0]
            sender = self._reads_whole(fetched)
            if sender is None or len(fetched.raw) > self.GROUP_BYTES:
                self._send_group()  # those before it go first: the look-ahead keeps the mailbox's order
                self.parsing.append((fetched, self._parse(fetched, sender)))  # may raise: it stays waiting
            else:
                self.grouping.append((fetched, sender))
            self.waiting.popleft()
            self.ready_bytes += len(fetched.raw)
            if len(self.grouping) >= self.GROUP:
                self._send_group()  # may raise (the pool cannot start): the group waits for the next try
        if flush and self.grouping and (not self.parsing or not self.waiting):
            self._send_group()

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
