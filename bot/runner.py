"""The long-running worker: IDLE-driven intake in the main thread, scheduled jobs beside it.

Signals only set a flag; the loop stops between messages.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from bot.app import App
from bot.cycle import run_cycle
from bot.health import Health
from bot.service import flush_outbox, poll_once, read_pending_scans
from intake.errors import SourceError
from intake.lease import release

log = logging.getLogger("complaint_bot.run")
MAX_BACKOFF = 300.0
SCAN_SECONDS = 10  # how often the OCR queue looks for scanned memos (its own thread and worker process)


class StopFlag:
    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self, *_: object) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()

    def sleep(self, seconds: float) -> None:
        self._event.wait(seconds)


def install_signal_handlers(stop: StopFlag) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d received: stopping after the current message", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _send(app: App) -> None:
    try:
        report = flush_outbox(app)
        if report.sent or report.failed or report.retrying:
            log.info("outbox: %d sent, %d retrying, %d failed", report.sent, report.retrying, report.failed)
    except Exception:
        log.exception("outbox flush failed; it will run again")


def _scans(app: App, stop: StopFlag) -> None:
    try:
        if read_pending_scans(app, stop):
            _send(app)
    except Exception:
        log.exception("reading scanned memos failed; it will run again")


def _cycle(app: App) -> None:
    try:
        report = run_cycle(app, app.now())
        if report.notices or report.digests:
            log.info("cycle: %d notice(s) queued, digest(s) for %s", len(report.notices), report.digests or "-")
            _send(app)
    except Exception:
        log.exception("monthly cycle failed; it will run again")


def make_scheduler(app: App, stop: StopFlag) -> BackgroundScheduler:
    """Jobs beside the intake loop. coalesce: a run missed while down happens once, not once per miss;
    the cycle job also runs at start, and its due-slot logic sends a missed notice once on return."""
    sched = BackgroundScheduler(timezone=app.settings.tz, job_defaults={"coalesce": True, "max_instances": 1,
                                                                       "misfire_grace_time": 3600})
    sched.add_job(_send, "interval", seconds=app.settings.send_interval_seconds, args=[app], id="outbox")
    sched.add_job(_scans, "interval", seconds=SCAN_SECONDS, args=[app, stop], id="scans")
    sched.add_job(_cycle, "interval", seconds=app.settings.cycle_seconds, args=[app], id="cycle",
                  next_run_time=app.now())
    return sched


class StoringFailed(Exception):
    """A poll that left messages unstored: the loop retries with its backoff and the health check says so."""


def serving(app: App) -> str:
    """What this worker serves, for its first log line (no password is written)."""
    from sqlalchemy.engine import make_url

    s = app.settings
    imap = s.imap()
    mailbox = (f"{'imaps' if imap.secure else 'imap'}://{imap.user}@{imap.host}:{imap.port}/{imap.folder}" if imap
               else f"maildir:{s.maildir()}")
    smtp = s.smtp()
    outgoing = (f"file:{smtp.path}" if smtp.scheme == "file"
                else f"{smtp.scheme}://{smtp.host}:{smtp.port}" + (f" as {smtp.user}" if smtp.user else ""))
    database = make_url(s.database_url).render_as_string(hide_password=True)
    return (f"serving {mailbox} as {app.worker_id}; sending through {outgoing} from {s.secretariat_email}; "
            f"database {database}; {len(app.registry.active)} active units")


def run_forever(app: App, stop: StopFlag) -> None:
    """Poll, deliver receipts, wait in IDLE; reconnect with backoff; a full sweep every SWEEP_SECONDS."""
    log.info(serving(app))
    scheduler = make_scheduler(app, stop)
    scheduler.start()
    source = app.source()
    health = Health()
    failures = 0
    last_sweep = 0.0
    try:
        while not stop():
            try:
                polled = poll_once(app, source, stop)
                if polled.failed or polled.db_unavailable:
                    # Not healthy: no heartbeat, and the messages are tried again within seconds (backoff),
                    # not at the next sweep: the database may answer again at any moment.
                    raise StoringFailed(f"{polled.failed} message(s) could not be stored" if polled.failed
                                        else "the database is unavailable")
                last_sweep = time.monotonic()
                _send(app)  # receipts leave now, not at the next outbox tick
                if failures:
                    log.info("mailbox reachable again after %d failed attempt(s)", failures)
                failures = 0
                health.ok(app, app.now())
                # Wait for news: IDLE returns early on new mail; otherwise re-sweep periodically.
                while not stop() and time.monotonic() - last_sweep < app.settings.sweep_seconds:
                    if source.wait(min(app.settings.idle_seconds, app.settings.sweep_seconds), stop):
                        break
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                if not isinstance(exc, (SourceError, StoringFailed)):
                    log.exception("unexpected error in the intake loop; reconnecting")
                failures += 1
                delay = min(2.0 ** min(failures, 9), MAX_BACKOFF)
                log.warning("mailbox unavailable (%s); attempt %d, retrying in %.0f s", exc, failures, delay)
                if health.failed(app, app.now(), str(exc)):
                    _send(app)
                source.close()
                stop.sleep(delay)
    finally:
        source.close()
        with app.sessions.begin() as s:
            release(s, source.name, app.worker_id)  # a standby worker may take over at once
        scheduler.shutdown(wait=True)
        app.close()
        log.info("stopped")
