"""OAuth2 for mailboxes that refuse passwords (Microsoft 365, Google Workspace): XOAUTH2 for IMAP and SMTP.

The standard grants need no vendor library: the device-code grant (RFC 8628) for the administrator's
one-time consent, and the refresh-token grant (RFC 6749 §6) to renew access tokens unattended. Tokens
live in their own file (mode 0600), never in `.env`.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.errors import ConfigError


class OAuthError(Exception):
    """The token endpoint refused or could not be reached; `consent_needed` means a person must log in again."""

    def __init__(self, message: str, consent_needed: bool = False) -> None:
        super().__init__(message)
        self.consent_needed = consent_needed


@dataclass(frozen=True)
class OAuthSettings:
    token_url: str
    client_id: str
    client_secret: str
    scope: str
    token_file: Path
    device_url: str = ""


def _post(url: str, fields: dict[str, str], timeout: float = 20) -> dict[str, object]:
    import urllib.error  # here: settings import this module, and most commands never fetch a token
    import urllib.request

    data = urllib.parse.urlencode({k: v for k, v in fields.items() if v}).encode()
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read().decode())
        except ValueError:
            body = {}
        return {"error": body.get("error", f"http_{exc.code}"), "error_description": body.get("error_description", "")}
    except (OSError, ValueError) as exc:
        raise OAuthError(f"token endpoint unreachable: {type(exc).__name__}") from None


def _save(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)
    path.chmod(0o600)


def _store(cfg: OAuthSettings, answer: dict[str, object], old: dict[str, object]) -> dict[str, object]:
    if "access_token" not in answer:
        error = str(answer.get("error", "no access token"))
        raise OAuthError(f"token refresh refused: {error}", consent_needed=error in ("invalid_grant", "interaction_required"))
    data = {"access_token": answer["access_token"],
            # Some servers rotate the refresh token; others keep the old one valid.
            "refresh_token": answer.get("refresh_token") or old.get("refresh_token", ""),
            "expires_at": time.time() + float(answer.get("expires_in", 3600))}  # type: ignore[arg-type]
    _save(cfg.token_file, data)
    return data


def access_token(cfg: OAuthSettings, now: Callable[[], float] = time.time) -> str:
    """A valid access token, refreshed when it is within five minutes of expiry."""
    try:
        data = json.loads(cfg.token_file.read_text())
    except (OSError, ValueError):
        raise OAuthError(f"no OAuth token in {cfg.token_file}: run `complaint-bot oauth login`",
                         consent_needed=True) from None
    if data.get("access_token") and float(data.get("expires_at", 0)) - 300 > now():
        return str(data["access_token"])
    if not data.get("refresh_token"):
        raise OAuthError("no refresh token: run `complaint-bot oauth login`", consent_needed=True)
    answer = _post(cfg.token_url, {"grant_type": "refresh_token", "refresh_token": str(data["refresh_token"]),
                                   "client_id": cfg.client_id, "client_secret": cfg.client_secret, "scope": cfg.scope})
    return str(_store(cfg, answer, data)["access_token"])


def device_login(cfg: OAuthSettings, show: Callable[[str], None], sleep: Callable[[float], None] = time.sleep,
                 limit: float = 900) -> None:
    """The administrator's consent: show a code to enter in a browser, then wait for the tokens."""
    if not cfg.device_url:
        raise ConfigError("OAUTH_DEVICE_URL", "OAUTH_DEVICE_URL is not set (the provider's device authorization endpoint)")
    start = _post(cfg.device_url, {"client_id": cfg.client_id, "scope": cfg.scope})
    if "device_code" not in start:
        raise OAuthError(f"device authorization refused: {start.get('error', 'unknown error')}")
    show(str(start.get("message") or f"Open {start.get('verification_uri')} and enter the code {start.get('user_code')}"))
    interval, waited = float(start.get("interval", 5)), 0.0  # type: ignore[arg-type]
    while waited < limit:
        sleep(interval)
        waited += interval
        answer = _post(cfg.token_url, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                       "device_code": str(start["device_code"]), "client_id": cfg.client_id,
                                       "client_secret": cfg.client_secret})
        if answer.get("error") in ("authorization_pending", "slow_down"):
            interval += 5 if answer.get("error") == "slow_down" else 0
            continue
        _store(cfg, answer, {})
        return
    raise OAuthError("no consent within the time limit")


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
