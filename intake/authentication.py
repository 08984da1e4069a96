"""Did the sender's domain vouch for this message? Authentication-Results (RFC 8601) from our own server.

Anyone can write an Authentication-Results header into a message before sending it, so only the
headers our receiving server added count: those carrying the configured authserv-id **above the first
Received header** (a receiving server prepends its results; everything below its own Received line
came from the sender). They are parsed by the `authres` package (an RFC 8601/7601 parser): comments
and property values are never read as results, and a header it cannot parse gives no verdict.

The rule (docs/spec.md, "Trust"): DMARC pass for the From domain counts; where the domain publishes no
DMARC policy (`dmarc=none`, or no DMARC result), an SPF or DKIM pass aligned with the From domain
counts; anything else needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import authres

MAX_RESULTS_CHARS = 8000  # our server's header is short; a longer one is not our server's
_TRACE = ("received", "authentication-results", "return-path", "delivered-to", "x-original-to", "received-spf",
          "arc-seal", "arc-message-signature", "arc-authentication-results", "x-envelope-from")


@dataclass(frozen=True)
class AuthVerdict:
    ok: bool
    reason: str  # why (for the log and the review list)


def our_results(headers: list[tuple[str, str]], authserv_id: str) -> list[authres.AuthenticationResultsHeader]:
    """The parsed Authentication-Results headers our server added (see the module's docstring)."""
    found = []
    for name, value in headers:
        lower = name.lower()
        if lower == "received" or lower not in _TRACE:
            break  # the sender's part of the header block starts here
        if lower != "authentication-results" or len(value) > MAX_RESULTS_CHARS:
            continue
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # authres raises its own SyntaxError and others on malformed input
            continue
        if str(parsed.authserv_id).lower() == authserv_id.lower():
            found.append(parsed)
    return found


def _aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one inside the other (mail.x.go.th and x.go.th)."""
    domain, from_domain = domain.lower().strip().rstrip("."), from_domain.lower().strip().rstrip(".")
    return bool(domain) and (domain == from_domain or domain.endswith("." + from_domain)
                             or from_domain.endswith("." + domain))


def _prop(result: authres.AuthenticationResultsHeader, ptype: str, name: str) -> str:
    for prop in result.properties:
        if prop.type.lower() == ptype and prop.name.lower() == name:
            return str(prop.value or "")
    return ""


def authenticate(headers: list[tuple[str, str]], from_addr: str, authserv_id: str) -> AuthVerdict:
    """Whether our server's results vouch for the From domain."""
    from_domain = from_addr.rpartition("@")[2]
    results = [r for header in our_results(headers, authserv_id) for r in header.results]
    if not results:
        return AuthVerdict(False, f"no Authentication-Results from {authserv_id}")
    dmarc = [r for r in results
             if r.method.lower() == "dmarc" and _prop(r, "header", "from").lower().rstrip(".") == from_domain]
    verdicts = {str(r.result).lower() for r in dmarc}
    if "pass" in verdicts:
        return AuthVerdict(True, "dmarc=pass")
    if verdicts - {"none"}:
        return AuthVerdict(False, f"dmarc={'/'.join(sorted(verdicts - {'none'}))} for {from_domain}")
    # No DMARC policy for the domain: an aligned SPF or DKIM pass vouches for it.
    for r in results:
        method, result = r.method.lower(), str(r.result).lower()
        if result != "pass":
            continue
        if method == "spf" and _aligned((_prop(r, "smtp", "mailfrom") or _prop(r, "smtp", "helo")).rpartition("@")[2],
                                        from_domain):
            return AuthVerdict(True, "no DMARC policy; aligned spf=pass")
        if method == "dkim" and _aligned(_prop(r, "header", "d") or _prop(r, "header", "i").rpartition("@")[2],
                                         from_domain):
            return AuthVerdict(True, "no DMARC policy; aligned dkim=pass")
    return AuthVerdict(False, f"no DMARC, SPF or DKIM pass aligned with {from_domain}")
