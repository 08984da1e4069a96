"""Who the bot is when it writes: handed by `bot` to every mailer function that composes a message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from mailer.limits import RateLimits


@dataclass(frozen=True)
class MailContext:
    """Who the bot is when it writes: sender, Message-ID signing, time zone, template overrides."""

    from_addr: str
    from_name: str
    secret: str
    domain: str
    tz: ZoneInfo
    templates_dir: Path | None = None
    limits: RateLimits = RateLimits()
    contact: str = ""  # how a unit reaches the secretariat (SECRETARIAT_CONTACT), closing every mail
