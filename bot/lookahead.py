"""Group commit's look-ahead: the messages of a batch prepared a few at a time ahead of storing them."""

from __future__ import annotations

from intake.pipeline import Fetched, IntakeContext, Prepared, prepare


class LookAhead:
    """The batch's messages in order, each prepared (parsed, screened, its files handed to the sandbox) a
    few messages before it is stored, so the parser processes read while this one writes. Bounded in
    messages and in bytes: a backlog of large messages must not be parsed into memory all at once."""

    MESSAGES = 8
    BYTES = 64 * 1024 * 1024

    def __init__(self, ctx: IntakeContext, batch: list[Fetched]) -> None:
        self.ctx = ctx
        self.waiting = list(batch)
        self.ready: list[tuple[Fetched, Prepared | Exception]] = []
        self.ready_bytes = 0

    @property
    def pending(self) -> bool:
        return bool(self.ready or self.waiting)

    def next(self) -> tuple[Fetched, Prepared | Exception]:
        self._fill()
        fetched, prepared = self.ready.pop(0)
        self.ready_bytes -= len(fetched.raw)
        self._fill()  # hand the next message to the parsers before this one is stored
        return fetched, prepared

    def _fill(self) -> None:
        while self.waiting and (not self.ready or (len(self.ready) < self.MESSAGES
                                                   and self.ready_bytes + len(self.waiting[0].raw) <= self.BYTES)):
            fetched = self.waiting.pop(0)
            try:
                prepared: Prepared | Exception = prepare(fetched, self.ctx)
            except Exception as exc:  # noqa: BLE001 - quarantined when its turn comes, like any reading error
                prepared = exc
            self.ready.append((fetched, prepared))
            self.ready_bytes += len(fetched.raw)
