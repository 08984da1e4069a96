"""Real servers for the tests: Dovecot (IMAP) from a generated config, aiosmtpd (SMTP), PostgreSQL databases."""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
DOVECOT_BIN = "/usr/sbin/dovecot"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


def unavailable(what: str) -> None:
    """Skip locally, fail under CI: a missing server must never pass as green in CI."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


def ensure_dovecot() -> bool:
    if Path(DOVECOT_BIN).exists():
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "dovecot-imapd"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return Path(DOVECOT_BIN).exists()


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost, which the tests pass as TLS_CA_FILE."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    key.chmod(0o644)  # dovecot reads it as root before dropping privileges; a test key only
    return cert, key


def ensure_ocr() -> bool:
    """Tesseract with Thai and pdftoppm, installed with apt-get when running as root."""
    from intake.ocr import ocr_languages

    if "tha" in ocr_languages() and shutil.which("pdftoppm"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "tesseract-ocr", "tesseract-ocr-tha", "poppler-utils"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        ocr_languages.cache_clear()
    return "tha" in ocr_languages() and shutil.which("pdftoppm") is not None


def ensure_neomutt() -> str | None:
    """Debian's NeoMutt (the real mail client that writes part of tests/clients), installed as root when missing."""
    if not shutil.which("neomutt") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "neomutt"], check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("neomutt")


def ensure_libreoffice() -> bool:
    """LibreOffice Calc (headless) with Thai fonts, to render workbooks as a person opens them."""
    if shutil.which("soffice"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "libreoffice-calc-nogui", "fonts-thai-tlwg"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("soffice") is not None


USERS = 200
PASSWORD = "secret-pass"


@dataclass
class Dovecot:
    root: Path
    port: int
    proc: subprocess.Popen
    conf: Path
    tls_port: int
    cert: Path
    _next_user: int = 0
    users_file: Path = field(default_factory=Path)

    def new_user(self) -> str:
        """A fresh, empty mailbox per test."""
        self._next_user += 1
        if self._next_user > USERS:
            raise RuntimeError("out of test users")
        return f"user{self._next_user}"

    def url(self, user: str, folder: str = "INBOX", password: str = PASSWORD) -> str:
        return f"imap://{user}:{password}@127.0.0.1:{self.port}/{folder}"

    def tls_url(self, user: str, folder: str = "INBOX") -> str:
        return f"imaps://{user}:{PASSWORD}@127.0.0.1:{self.tls_port}/{folder}"

    def client(self, user: str) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login(user, PASSWORD)
        return c

    def append(self, user: str, raw: bytes, when: datetime, folder: str = "INBOX") -> None:
        c = self.client(user)
        try:
            typ, data = c.append(folder, None, imaplib.Time2Internaldate(when), raw)
            assert typ == "OK", data
        finally:
            c.logout()

    def flags(self, user: str, folder: str = "INBOX") -> dict[str, str]:
        """UID -> FLAGS string, read without changing anything."""
        c = self.client(user)
        try:
            c.select(folder, readonly=True)
            typ, data = c.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for item in data:
                if isinstance(item, bytes) and b"UID" in item:
                    text = item.decode()
                    uid = text.split("UID ")[1].split()[0].rstrip(")")
                    out[uid] = text.split("FLAGS (")[1].split(")")[0]
            return out
        finally:
            c.logout()

    def stop(self) -> None:
        """SIGTERM to the whole process group: imap and login children must go with the master."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the children have let go of the ports
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.1)
            except OSError:
                return


def start_dovecot(oauth_introspection_url: str | None = None) -> Dovecot:
    """A Dovecot from a generated config; with an introspection URL it also accepts XOAUTH2 bearer tokens."""
    root = Path(tempfile.mkdtemp(prefix="cb-dovecot-"))
    root.chmod(0o755)  # every folder above the config must be traversable by dovecot's users
    port, tls_port = free_port(), free_port()
    cert, key = make_cert(root)
    mail = root / "mail"
    mail.mkdir()
    users = root / "users"
    users.write_text("".join(f"user{i}:{{PLAIN}}{PASSWORD}\n" for i in range(1, USERS + 1)))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(mail, "dovecot", "dovecot")
    conf = root / "dovecot.conf"
    lines = [
        f"base_dir = {root}/run", f"state_dir = {root}/state", f"log_path = {root}/dovecot.log",
        f"info_log_path = {root}/dovecot.log", "protocols = imap", "listen = 127.0.0.1", "ssl = yes",
        f"ssl_cert = <{cert}", f"ssl_key = <{key}",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login" + (" xoauth2 oauthbearer" if oauth_introspection_url else ""),
        f"mail_location = maildir:{mail}/%u/Maildir", "imap_capability = +MOVE UIDPLUS IDLE",
        f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {users}\n}}",
        f"userdb {{\n  driver = static\n  args = home={mail}/%u\n}}",
        f"service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n"
        f"  inet_listener imaps {{\n    port = {tls_port}\n    ssl = yes\n  }}\n{'' if as_root else '  chroot =' + chr(10)}}}",
    ]
    if oauth_introspection_url:
        oauth_conf = root / "dovecot-oauth2.conf.ext"
        oauth_conf.write_text(f"introspection_mode = post\nintrospection_url = {oauth_introspection_url}\n"
                              "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
        # First, so that bearer tokens are never looked up in the password file.
        lines.insert(0, f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {oauth_conf}\n}}")
    # No authentication penalty: the tests' wrong passwords come from 127.0.0.1 like every other login, and
    # Dovecot would delay the next logins from it by up to 15 s (a later test's IDLE then looked broken).
    anvil = "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n"
    if as_root:
        lines += ["default_internal_user = dovecot", "default_login_user = dovenull", "mail_uid = dovecot",
                  "mail_gid = dovecot", "first_valid_uid = 1", f"service anvil {{\n{anvil}}}"]
    else:
        lines += [f"service anvil {{\n  chroot =\n{anvil}}}"]
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([DOVECOT_BIN, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_port(port)
    except RuntimeError:
        proc.kill()
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start: {proc.stdout.read() if proc.stdout else b''!r} {log}")
    wait_port(tls_port)
    return Dovecot(root=root, port=port, proc=proc, conf=conf, users_file=users, tls_port=tls_port, cert=cert)


def restart_dovecot(old: Dovecot) -> Dovecot:
    """The same server (config, ports, mail) in a new process, as after a reboot."""
    proc = subprocess.Popen([DOVECOT_BIN, "-F", "-c", str(old.conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_port(old.port)
    old.proc = proc
    return old


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"cbtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"


class RoundTrips:
    """The times a client waited for PostgreSQL, counted from libpq's protocol trace of every connection an
    engine hands out meanwhile: one per ReadyForQuery (the end of a statement, or of a pipeline's Sync) and one
    per CopyInResponse (a COPY's first wait). Counting what the protocol says, not seconds: the same count on a
    quiet machine and a busy one."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self._file = tempfile.NamedTemporaryFile(prefix="cb-pgtrace-", delete=False)
        self._traced: list[Any] = []
        self._listener = self._trace
        event.listen(engine, "checkout", self._listener)

    def _trace(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        import psycopg

        pgconn = dbapi_connection.pgconn
        if pgconn not in self._traced:
            pgconn.trace(self._file.fileno())
            pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            self._traced.append(pgconn)

    def _messages(self, sender: str, names: tuple[str, ...]) -> int:
        """How many protocol messages of these names the trace holds from `sender` (F: the client, B: the server)."""
        text = Path(self._file.name).read_text(encoding="utf-8", errors="replace")
        return sum(1 for line in text.splitlines()
                   if line.startswith(f"{sender}\t") and any(f"\t{name}" in line for name in names))

    @property
    def count(self) -> int:
        return self._messages("B", ("ReadyForQuery", "CopyInResponse"))

    @property
    def statements(self) -> int:
        """The statements the clients sent: an Execute of the extended protocol, or a simple Query, each."""
        return self._messages("F", ("Execute", "Query"))

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "checkout", self._listener)
        for pgconn in self._traced:
            if pgconn.status == 0:  # still open
                pgconn.untrace()
        self._file.close()
        os.unlink(self._file.name)


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary folder, a free port), to crash and restart
    under a running worker; the shared server on 5432 is never touched."""

    root: Path
    port: int
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        cmd = [str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-w", *args]
        subprocess.run(_as_postgres(cmd), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._ctl("-l", str(self.root / "log"), "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
                  "start")

    def crash(self) -> None:
        """As a power cut or the OOM killer would: no shutdown checkpoint, connections dropped."""
        self._ctl("-m", "immediate", "stop")

    def stop(self) -> None:
        try:
            self._ctl("-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_private_postgres() -> PrivatePostgres | None:
    """None when no PostgreSQL server binaries are installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        return None
    root = Path(tempfile.mkdtemp(prefix="cb-pg-"))
    root.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = PrivatePostgres(root, free_port(), found[-1].parent)
    subprocess.run(_as_postgres([str(server.bin_dir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U",
                                 "postgres", "--no-sync"]), check=True, capture_output=True, timeout=120)
    server.start()
    return server
