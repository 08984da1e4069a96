"""OAuth2 (XOAUTH2): token refresh against a local fake token endpoint (the one fake here: no real
identity provider is reachable), and Dovecot configured to accept the bearer tokens it vouches for."""

from __future__ import annotations

import base64
import json
import stat
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.samples import make_mail
from bot.service import flush_outbox, poll_once
from config.oauth import OAuthError, OAuthSettings, access_token, device_login
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, bkk

pytestmark = pytest.mark.slow  # servers, subprocesses or whole-project checks


class FakeProvider:
    """Token endpoint (refresh and device grants), device authorization, and token introspection."""

    def __init__(self) -> None:
        self.valid: dict[str, str] = {}  # access token -> user
        self.refresh: dict[str, str] = {"R1": "user-of-R1"}
        self.calls: list[str] = []
        self.pending = 1
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                provider.calls.append(f"{self.path} {form.get('grant_type', '')}")
                status, body = provider.answer(self.path, form)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def issue(self, user: str) -> dict[str, object]:
        token = f"A{len(self.valid) + 2}"
        refresh = f"R{len(self.valid) + 2}"
        self.valid[token], self.refresh[refresh] = user, user
        return {"access_token": token, "refresh_token": refresh, "expires_in": 3600, "token_type": "Bearer"}

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if path == "/introspect":
            user = self.valid.get(form.get("token", ""))
            return 200, {"active": bool(user), "username": user or ""}
        if path == "/device":
            return 200, {"device_code": "D1", "user_code": "WXYZ-1234", "verification_uri": f"{self.url}/verify",
                         "interval": 1, "expires_in": 900}
        if form.get("grant_type") == "refresh_token":
            user = self.refresh.pop(form.get("refresh_token", ""), None)  # rotated: each works once
            return (200, self.issue(user)) if user else (400, {"error": "invalid_grant"})
        if form.get("grant_type", "").endswith("device_code"):
            if self.pending:
                self.pending -= 1
                return 400, {"error": "authorization_pending"}
            return 200, self.issue("user-of-device")
        return 400, {"error": "unsupported_grant_type"}


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    p = FakeProvider()
    yield p
    p.server.shutdown()


def _settings(provider, tmp_path) -> OAuthSettings:  # type: ignore[no-untyped-def]
    return OAuthSettings(token_url=f"{provider.url}/token", client_id="cid", client_secret="", scope="imap",
                         token_file=tmp_path / "tok.json", device_url=f"{provider.url}/device")


def _write_token(path, **data) -> None:  # type: ignore[no-untyped-def]
    path.write_text(json.dumps(data))


def test_refresh_when_due_rotating_and_private(provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _settings(provider, tmp_path)
    _write_token(cfg.token_file, access_token="old", refresh_token="R1", expires_at=time.time() + 60)
    token = access_token(cfg)  # expires within five minutes: refreshed
    assert token == "A2" and provider.calls == ["/token refresh_token"]
    assert access_token(cfg) == "A2" and len(provider.calls) == 1  # still valid: no second call
    saved = json.loads(cfg.token_file.read_text())
    assert saved["refresh_token"] == "R2" and stat.S_IMODE(cfg.token_file.stat().st_mode) == 0o600


def test_revoked_consent_is_named(provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _settings(provider, tmp_path)
    _write_token(cfg.token_file, access_token="x", refresh_token="revoked", expires_at=0)
    with pytest.raises(OAuthError) as err:
        access_token(cfg)
    assert err.value.consent_needed and "invalid_grant" in str(err.value)


def test_device_login_stores_the_tokens(provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = _settings(provider, tmp_path)
    shown: list[str] = []
    device_login(cfg, shown.append, sleep=lambda s: None)
    assert "WXYZ-1234" in shown[0] and json.loads(cfg.token_file.read_text())["access_token"] == "A2"


def test_imap_and_smtp_with_xoauth2(provider, tmp_path, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.conftest import CaptureHandler

    class XoauthHandler(CaptureHandler):
        async def auth_XOAUTH2(self, server, args):  # type: ignore[no-untyped-def]  # noqa: N802
            raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
            user = raw.split("user=")[1].split("\x01")[0] if "user=" in raw else ""
            token = raw.split("Bearer ")[1].split("\x01")[0] if "Bearer " in raw else ""
            return AuthResult(success=provider.valid.get(token) == user, auth_data=user)

    dovecot = servers.start_dovecot(oauth_introspection_url=f"{provider.url}/introspect")
    handler = XoauthHandler()
    port = servers.free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False, auth_required=True)
    smtp.start()
    try:
        user = dovecot.new_user()
        provider.refresh["R1"] = user
        (tmp_path / "tok.json").write_text(json.dumps({"access_token": "", "refresh_token": "R1", "expires_at": 0}))
        app = make_app(db_url, MAIL_SOURCE=f"imap://{user}@127.0.0.1:{dovecot.port}/INBOX",
                       SMTP_URL=f"smtp://{user}@127.0.0.1:{port}", MAIL_AUTH="xoauth2",
                       OAUTH_TOKEN_URL=f"{provider.url}/token", OAUTH_CLIENT_ID="cid",
                       OAUTH_TOKEN_FILE=str(tmp_path / "tok.json"))
        dovecot.append(user, make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="x", body="ไม่มีข้อร้องเรียน",
                                       date_=bkk(2026, 11, 3)), bkk(2026, 11, 3))
        source = app.source()
        assert poll_once(app, source).processed == 1  # logged in with a bearer token Dovecot verified
        source.close()
        assert flush_outbox(app).sent == 1 and len(handler.messages) == 1
        assert "/introspect " in provider.calls and provider.calls[0] == "/token refresh_token"
    finally:
        smtp.stop()
        dovecot.stop()


def test_cli_says_when_consent_must_be_renewed(provider, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tok.json").write_text(json.dumps({"refresh_token": "revoked", "expires_at": 0}))
    env = {"MAIL_AUTH": "xoauth2", "OAUTH_TOKEN_URL": f"{provider.url}/token", "OAUTH_CLIENT_ID": "cid",
           "OAUTH_TOKEN_FILE": str(tmp_path / "tok.json"), "DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["oauth", "status"], env=env)
    assert result.exit_code == 1 and "consent must be renewed" in result.output
    result = CliRunner().invoke(cli, ["status"], env={**env, "OAUTH_CLIENT_ID": ""})
    assert result.exit_code == 2 and "OAUTH_CLIENT_ID is required" in result.output
