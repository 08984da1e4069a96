"""A poll's messages cut into batches, the next batch's first messages fetched while the current one is stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from bot.lookahead import LookAhead
from intake.context import Fetched, IntakeContext

# A batch's raw bytes are held until it is stored and marked: a backlog of large messages settles in smaller
# batches (a message may be MAX_MESSAGE_MB; INTAKE_BATCH_MESSAGES of them would not fit in memory).
BATCH_BYTES = 64 * 1024 * 1024


class Batches:
    """The mailbox's new messages, in batches of at most `messages`, BATCH_BYTES, or `batch_ms` since its first
    message was fetched; each batch's messages go to the parser workers as they are fetched (`LookAhead.add`).

    While a batch is stored, the next batch's first messages are fetched as soon as the stored batch's own are
    all with the workers (`top_up`, called between two stored messages), up to AHEAD of them (and AHEAD_BYTES).
    Otherwise the workers sat idle at each batch's end, through its last messages, its commit, the server's marks
    and the next batch's first fetch: a sixth of a backlog's time with one of the two cores busy. A fetch that fails
    there is raised only once the stored batch is settled (`failure`), as it was raised between batches before.

    `renew` (the mailbox's lease) is called once every RENEW_EVERY messages fetched, only while a batch is being
    filled, never while one is stored: there the stored batch's transaction holds SQLite's write lock, and the
    lease's own write waited out the busy timeout and failed the poll.
    """

    AHEAD = 2 * LookAhead.MESSAGES
    AHEAD_BYTES = 16 * 1024 * 1024  # and of their bytes: the stored batch holds up to BATCH_BYTES already
    TOP_UP = LookAhead.GROUP  # messages fetched at a time while a batch is stored: a parser task's worth
    RENEW_EVERY = 100

    def __init__(self, messages: Iterator[Fetched], ctx: IntakeContext, limit: int, batch_ms: int,
                 on_fetched: Callable[[], None], renew: Callable[[], None], stop: Callable[[], bool]) -> None:
        self.messages, self.ctx, self.limit, self.batch_ms = messages, ctx, limit, batch_ms
        self.on_fetched, self.renew, self.stop = on_fetched, renew, stop
        self.fetched = self.renewed_at = 0  # messages fetched in all, and when the lease was last renewed
        self.ended = False  # the mailbox has nothing more for this poll
        self.failure: Exception | None = None  # a fetch that failed while a batch was stored
        self._start()

    def _start(self) -> None:
        self.batch: list[Fetched] = []
        self.ahead = LookAhead(self.ctx)
        self.held = 0
        self.opened = time.monotonic()

    @property
    def full(self) -> bool:
        return (len(self.batch) >= self.limit or self.held >= BATCH_BYTES or self.stop()
                or bool(self.batch) and (time.monotonic() - self.opened) * 1000 >= self.batch_ms)

    def pull(self) -> bool:
        """Fetch one message into the forming batch; False when the mailbox has nothing more."""
        try:
            fetched = next(self.messages)
        except StopIteration:
            self.ended = True
            return False
        if not self.batch:
            self.opened = time.monotonic()
        self.batch.append(fetched)
        self.held += len(fetched.raw)
        self.ahead.add(fetched)
        self.fetched += 1
        self.on_fetched()
        return True

    def fill(self) -> tuple[list[Fetched], LookAhead]:
        """The next batch, fetched to its end (it may have begun while the last was stored), and its look-ahead;
        an empty batch when the mailbox has nothing more. A fetch's failure is raised (that of `top_up` too)."""
        if self.failure is not None:
            raise self.failure
        while True:
            if self.fetched - self.renewed_at >= self.RENEW_EVERY:  # a long backlog: keep the lease meanwhile
                self.renew()
                self.renewed_at = self.fetched
            if self.ended or self.full or not self.pull():
                break
        batch, ahead = self.batch, self.ahead
        self._start()
        return batch, ahead

    def top_up(self, storing: LookAhead) -> None:
        """Between two messages of the stored batch: when its messages are all with the parser workers (and fewer
        than they read ahead), fetch the next batch's first few, so that the workers have them next."""
        if self.ended or self.failure is not None or not storing.handed_over:
            return
        try:
            for _ in range(self.TOP_UP):
                if len(self.batch) >= self.AHEAD or self.held >= self.AHEAD_BYTES or self.full or not self.pull():
                    return
        except Exception as exc:  # noqa: BLE001 - the stored batch is settled first; `fill` raises it
            self.failure = exc
