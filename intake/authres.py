"""Authentication-Results (RFC 8601) from our own receiving server: did DMARC pass for the From domain?

Only headers whose authserv-id is the configured one count; anyone can write such a header into a
message before sending it, so foreign ones are ignored.
"""

from __future__ import annotations

import re

_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*(\w+)", re.IGNORECASE)


def dmarc_verdict(headers: list[tuple[str, str]], authserv_id: str) -> str | None:
    """'pass', 'fail', … from the trusted server's header; None when it did not say."""
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        server = value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""
        if server != authserv_id.lower():
            continue
        for method, result in _RESULT.findall(value):
            if method.lower() == "dmarc":
                return result.lower()
    return None
