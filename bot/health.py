"""Being watched: a heartbeat ping after each good cycle, and a mail to the secretariat when the
mailbox has been unreachable for MAILBOX_ALERT_MINUTES (once per outage)."""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.app import App
from config.msgid import make_message_id
from mailer.compose import build_message
from mailer.outbox import Envelope, enqueue
from mailer.render import render
from scoring.periods import thai_datetime

log = logging.getLogger("complaint_bot.health")


@dataclass
class Health:
    """What the worker knows about its mailbox since it started."""

    failing_since: datetime | None = None
    alerted: bool = False
    last_ping: datetime | None = None

    def ok(self, app: App, now: datetime) -> None:
        self.failing_since, self.alerted = None, False
        url = app.settings.heartbeat_url
        if url and (self.last_ping is None or now - self.last_ping >= timedelta(seconds=60)):
            self.last_ping = now
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    response.read(64)
            except (OSError, ValueError) as exc:  # monitoring being down must not stop the bot
                log.warning("heartbeat to the monitoring URL failed: %s", type(exc).__name__)

    def failed(self, app: App, now: datetime, error: str) -> bool:
        """Note a failure; queue the alert once the outage is long enough. True when it was queued."""
        self.failing_since = self.failing_since or now
        limit = timedelta(minutes=app.settings.mailbox_alert_minutes)
        if self.alerted or now - self.failing_since < limit:
            return False
        self.alerted = True
        return queue_alert(app, self.failing_since, now, error)


def queue_alert(app: App, since: datetime, now: datetime, error: str) -> bool:
    s = app.settings
    key = f"alert:mailbox:{since.astimezone(UTC).isoformat()}"
    imap = s.imap()
    context = {"mailbox": imap.host if imap else str(s.maildir()), "since": thai_datetime(since.astimezone(s.tz)),
               "minutes": int((now - since).total_seconds() // 60), "error": error[:300]}
    rendered = render("alert", context)
    message_id = make_message_id(s.secret_key, s.message_id_domain, "alert", None, None, key)
    to = list(s.digest_to)
    raw = build_message(from_addr=s.secretariat_email, from_name="complaint-bot", to=to, subject=rendered.subject,
                        text=rendered.text, html=rendered.html, message_id=message_id, date=now)
    with app.sessions.begin() as session:
        queued = enqueue(session, Envelope(key=key, kind="alert", recipients=to, subject=rendered.subject,
                                           message_id=message_id, raw=raw), now) is not None
    if queued:
        log.error("mailbox unreachable since %s: alert queued to the secretariat", since.isoformat())
    return queued
