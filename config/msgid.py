"""The bot's Message-ID scheme, shared by mailer (writing) and intake (reading replies).

`<cr.KIND.UNIT.PERIOD.NONCE.SIG@DOMAIN>`: SIG is an HMAC over the rest, so a reply's
In-Reply-To/References maps back to its unit and period, and nobody can forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_ID = re.compile(r"<cr\.([a-z_]+)\.([A-Za-z0-9\-]+)\.(\d{4}-\d{2}|-)\.([0-9a-f]{12})\.([0-9a-f]{16})@([^<>\s]+)>")


@dataclass(frozen=True)
class BotMessageRef:
    kind: str
    unit: str | None
    period: str | None  # YYYY-MM


def _sig(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:16]


def make_message_id(secret: str, domain: str, kind: str, unit: str | None, period: str | None, key: str) -> str:
    """A stable Message-ID for the outgoing message identified by `key` (its idempotency key)."""
    nonce = hashlib.sha256(key.encode()).hexdigest()[:12]
    body = f"{kind}.{unit or '-'}.{period or '-'}.{nonce}"
    return f"<cr.{body}.{_sig(secret, body)}@{domain}>"


def read_message_ids(secret: str, header_values: list[str]) -> list[BotMessageRef]:
    """Our own Message-IDs found in In-Reply-To/References, verified; forged or foreign ones are skipped."""
    refs = []
    for value in header_values:
        for m in _ID.finditer(value or ""):
            kind, unit, period, nonce, sig = m.group(1, 2, 3, 4, 5)
            body = f"{kind}.{unit}.{period}.{nonce}"
            if hmac.compare_digest(sig, _sig(secret, body)):
                refs.append(BotMessageRef(kind, None if unit == "-" else unit, None if period == "-" else period))
    return refs
