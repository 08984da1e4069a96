"""Delivery status notifications (RFC 3464): which of our recipients failed, and whether for good."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

from intake.headers import header_items, unfold


@dataclass(frozen=True)
class Bounce:
    address: str
    status: str  # e.g. 5.1.1
    permanent: bool
    original_message_id: str = ""


def _fields(block: Message | str) -> dict[str, str]:
    if isinstance(block, Message):
        return {k.lower(): v for k, v in header_items(block)}
    return {m.group(1).lower(): m.group(2).strip() for m in re.finditer(r"^([\w-]+):\s*(.+)$", block, re.M)}


def is_permanent(status: str) -> bool:
    # 5.4.4 ("unable to route") is often a passing DNS problem: treat it like a 4.x.x.
    return status.startswith("5.") and status != "5.4.4"


def parse_bounce(raw: bytes) -> list[Bounce]:
    """Failed recipients from a DSN; an empty list when the message is not one we can read."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    original = ""
    blocks: list[Message | str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status", "text/delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks.extend(payload)
            elif isinstance(payload, str):
                blocks.extend(payload.split("\n\n"))
        elif ctype in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = unfold(str(inner[0].get("Message-ID", ""))).strip()
            elif isinstance(inner, str):
                decoded = part.get_payload(decode=True)  # often quoted-printable (long Message-ID lines)
                inner = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else inner
                m = re.search(r"^Message-ID:[ \t]{0,20}(<[^<>\s]{1,998}>)", inner, re.I | re.M)
                original = m.group(1) if m else ""
    original = original or unfold(str(msg.get("In-Reply-To", ""))).strip()[:998]
    out = []
    for block in blocks:
        fields = _fields(block)
        recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
        action = fields.get("action", "").lower()
        status = (re.search(r"\d\.\d{1,3}\.\d{1,3}", fields.get("status", "")) or [""])[0]
        if not recipient or action not in ("failed", "delayed"):
            continue
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        out.append(Bounce(address, status, action == "failed" and is_permanent(status), original))
    return out
