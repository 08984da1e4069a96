"""The real command line, killed with SIGKILL at a chosen step (for tests/bot/test_reliability.py).

    CRASH_AT=after_fetch|after_commit|after_mark|during_send|during_ingest_of_poison|during_ingest_times \
        python tests/crash_worker.py poll

The product has no test hooks: this wrapper patches the step's function to kill its own process.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.service  # noqa: E402
import bot.storing  # noqa: E402
from intake.mailbox import ImapSource  # noqa: E402
from mailer.transport import SmtpTransport  # noqa: E402


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def patch(step: str) -> None:
    """Make the step's function kill this process."""
    if step == "after_fetch":  # the message is in memory, nothing is stored yet
        bot.service.process_batch = lambda app, batch, ahead=None, between=None: die()  # type: ignore[assignment,misc,return-value]
    elif step == "after_commit":  # stored and receipt queued, the server not yet told
        ImapSource.mark_all = lambda self, batch: die()  # type: ignore[method-assign,assignment,misc]
    elif step == "after_mark":  # the batch marked on the server, the next message not started
        original_mark = ImapSource.mark_all

        def mark_then_die(self: ImapSource, batch: list[object]) -> None:
            original_mark(self, batch)  # type: ignore[arg-type]
            die()

        ImapSource.mark_all = mark_then_die  # type: ignore[method-assign,assignment]
    elif step == "during_send":  # the SMTP server took the message, the outbox row is not yet settled
        original_send = SmtpTransport.send

        def send_then_die(self: SmtpTransport, *args: object) -> None:
            original_send(self, *args)  # type: ignore[arg-type]
            die()

        SmtpTransport.send = send_then_die  # type: ignore[method-assign,assignment]
    elif step == "during_ingest_of_poison":  # a message that kills whoever reads it (as a native abort would)
        original_ingest = bot.storing.ingest

        def ingest_or_die(session: object, fetched: object, *args: object, **kwargs: object) -> object:
            if b"POISON" in fetched.raw:  # type: ignore[attr-defined]
                die()
            return original_ingest(session, fetched, *args, **kwargs)  # type: ignore[arg-type]

        bot.storing.ingest = ingest_or_die  # type: ignore[assignment]
    elif step == "during_ingest_times":  # killed (as an operator or the OOM killer would) CRASH_TIMES times
        counter = Path(os.environ["CRASH_COUNTER"])
        original = bot.storing.ingest

        def ingest_killed(session: object, fetched: object, *args: object, **kwargs: object) -> object:
            done = int(counter.read_text() or 0) if counter.exists() else 0
            if done < int(os.environ["CRASH_TIMES"]):
                counter.write_text(str(done + 1))
                die()
            return original(session, fetched, *args, **kwargs)  # type: ignore[arg-type]

        bot.storing.ingest = ingest_killed  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown CRASH_AT {step}")


if __name__ == "__main__":  # the parser sandbox's workers import this file again (as multiprocessing does)
    from bot.cli import main

    patch(os.environ["CRASH_AT"])
    sys.argv = ["complaint-bot", *sys.argv[1:]]
    main()
