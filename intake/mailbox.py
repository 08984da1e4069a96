"""Mail sources: an IMAP folder (imap-tools) or a local Maildir, yielding raw messages with arrival times.

Messages are tracked by mailbox (account, server, folder) + UIDVALIDITY + UID and by a hash of the raw
bytes (in the database), fetched with BODY.PEEK (a person may read the mailbox: \\Seen means nothing to
us), and marked done on the server only after the caller's commit. Mail is never deleted or expunged.
"""

from __future__ import annotations

import imaplib
import os
import re
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from imap_tools import BaseMailBox, MailBox, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError

from config.settings import ImapSettings
from intake.errors import SourceError
from intake.context import Fetched

KnownFn = Callable[[str, int | None, list[str]], set[str]]
FETCH_BATCH = 100
STOP_CHECK_SECONDS = 0.5  # how soon an IDLE wait notices that the worker is stopping
MARK_BATCH = 200  # UIDs per STORE/MOVE command: a short command line for any server
_FETCH_ITEM = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
# imap-tools raises its own errors too (e.g. a tagged BYE when the server shuts down during IDLE).
NETWORK_ERRORS = (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError, socket.timeout, ssl.SSLError, EOFError,
                  ImapToolsError)


class MailSource(Protocol):
    name: str

    def connect(self) -> None: ...
    def fetch_new(self, known: KnownFn) -> Iterator[Fetched]: ...
    def mark_all(self, batch: list[Fetched]) -> None: ...  # after the batch is committed, never before
    def wait(self, timeout: float, stop: Callable[[], bool] = ...) -> bool: ...
    def close(self) -> None: ...


class MaildirSource:
    """A local Maildir: every file in new/ and cur/ not yet stored; delivery time from the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = "maildir"

    def connect(self) -> None:
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[Path]:
        files = [p for sub in ("new", "cur") for p in (self.path / sub).iterdir() if p.is_file()]
        return sorted(files, key=lambda p: (self._arrival(p), p.name))

    @staticmethod
    def _key(path: Path) -> str:
        return path.name.split(":2,", 1)[0]

    @staticmethod
    def _arrival(path: Path) -> datetime:
        # Delivery agents name files "<unix time>.<unique>.<host>"; that is the delivery time.
        head = path.name.split(".", 1)[0]
        if head.isdigit() and len(head) >= 9:
            return datetime.fromtimestamp(int(head), UTC)
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def fetch_new(self, known: KnownFn) -> Iterator[Fetched]:
        self.connect()
        files = self._files()
        seen = known(self.name, None, [self._key(p) for p in files])
        for path in files:
            key = self._key(path)
            fetched = Fetched(raw=b"", arrived_at=self._arrival(path), source=self.name, uid=key)
            if key in seen:
                self.mark_done(fetched)
                continue
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # moved away by a person meanwhile
            yield Fetched(raw=raw, arrived_at=fetched.arrived_at, source=self.name, uid=key)

    def mark_done(self, fetched: Fetched) -> None:
        src = self.path / "new" / str(fetched.uid)
        if src.exists():
            os.replace(src, self.path / "cur" / f"{fetched.uid}:2,")

    def mark_all(self, batch: list[Fetched]) -> None:
        for fetched in batch:
            self.mark_done(fetched)

    def wait(self, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        time.sleep(min(timeout, 2.0))  # a local folder is cheap to look at again
        return True

    def close(self) -> None:
        pass


GREETING_SECONDS = 10.0  # an IMAP server greets at once; one that says nothing this long may want TLS


def _speaks_tls(host: str, port: int) -> bool:
    """Whether a TLS handshake succeeds at host:port (only asked after a plain connection got no greeting)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # only asking whether it speaks TLS
    try:
        with socket.create_connection((host, port), timeout=GREETING_SECONDS) as raw, \
                context.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ssl.SSLError):
        return False


class ImapSource:
    """One IMAP folder. Done = a keyword flag (and optionally a move to another folder)."""

    def __init__(self, cfg: ImapSettings, done_keyword: str, done_folder: str | None = None,
                 timeout: float = 60, ssl_context: ssl.SSLContext | None = None,
                 token: Callable[[], str] | None = None) -> None:
        self.cfg = cfg
        self.done_keyword = done_keyword
        self.done_folder = done_folder
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.token = token  # XOAUTH2 instead of a password (Microsoft 365, Google Workspace)
        # The account, server and folder: two mailboxes (one worker each) must not share a lease, nor each
        # other's UIDs (two new folders can even get the same UIDVALIDITY).
        self.name = f"imap:{cfg.user}@{cfg.host}:{cfg.port}/{cfg.folder}"[:255]
        self.box: BaseMailBox | None = None
        self.uidvalidity: int | None = None
        self.supports_idle = False

    def _plain(self) -> BaseMailBox:
        """A plain connection whose greeting must come within GREETING_SECONDS: `imap://` pointed at a port that
        speaks TLS (993) gets none (the server waits for a handshake), and is then named as such instead of
        ending in a bare "timed out" after the whole timeout."""
        try:
            box = MailBoxUnencrypted(self.cfg.host, self.cfg.port, timeout=min(self.timeout, GREETING_SECONDS))
        except (socket.timeout, TimeoutError):
            if _speaks_tls(self.cfg.host, self.cfg.port):
                raise ssl.SSLError(f"port {self.cfg.port} speaks TLS: use imaps://{self.cfg.host}:{self.cfg.port} "
                                   "in MAIL_SOURCE") from None
            raise
        box.client.sock.settimeout(self.timeout)
        return box

    def connect(self) -> None:
        self.close()
        try:
            if self.cfg.secure:
                box: BaseMailBox = MailBox(self.cfg.host, self.cfg.port, timeout=self.timeout,
                                           ssl_context=self.ssl_context or ssl.create_default_context())
            else:
                box = self._plain()
            if self.token is not None:
                box.xoauth2(self.cfg.user, self.token(), initial_folder=self.cfg.folder)
            else:
                box.login(self.cfg.user, self.cfg.password, initial_folder=self.cfg.folder)
            # Servers announce MOVE/IDLE only after login; imap-tools decides from pre-login capabilities.
            typ, data = box.client.capability()
            if typ == "OK" and data and data[-1]:
                box.client.capabilities = tuple(data[-1].decode().upper().split())
            status = box.client.status(_quote(self.cfg.folder), "(UIDVALIDITY)")
            m = re.search(rb"UIDVALIDITY (\d+)", b" ".join(d for d in status[1] if isinstance(d, bytes)))
            self.uidvalidity = int(m.group(1)) if m else None
            if self.done_folder:
                box.client.create(_quote(self.done_folder))  # fails harmlessly when it exists
        except NETWORK_ERRORS as exc:
            raise SourceError(self.name, _redact(str(exc), self.cfg.password)) from None
        except Exception as exc:  # imap-tools' own errors (login refused, folder missing)
            raise SourceError(self.name, _redact(str(exc), self.cfg.password)) from None
        self.box = box
        self.supports_idle = "IDLE" in box.client.capabilities

    def _client(self) -> imaplib.IMAP4:
        if self.box is None:
            self.connect()
        assert self.box is not None
        return self.box.client

    def fetch_new(self, known: KnownFn) -> Iterator[Fetched]:
        client = self._client()
        try:
            _pop_news(client)  # this SEARCH sees that mail; only reports from here on mean something new
            typ, data = client.uid("SEARCH", "UNKEYWORD", self.done_keyword)
            if typ != "OK":
                raise SourceError(self.name, f"search failed: {data!r}")
            uids = data[0].decode().split() if data and data[0] else []
            seen = known(self.name, self.uidvalidity, uids)
            for uid in uids:
                if uid in seen:  # stored before a crash, but never marked on the server
                    self._mark(client, uid)
            todo = [u for u in uids if u not in seen]
            for start in range(0, len(todo), FETCH_BATCH):
                batch = todo[start:start + FETCH_BATCH]
                typ, items = client.uid("FETCH", ",".join(batch), "(UID INTERNALDATE BODY.PEEK[])")
                if typ != "OK":
                    raise SourceError(self.name, f"fetch failed: {items!r}")
                for item in items:
                    if isinstance(item, tuple) and len(item) == 2:
                        yield self._fetched(item[0], item[1])
        except NETWORK_ERRORS as exc:
            self.box = None
            raise SourceError(self.name, str(exc)) from None

    def _fetched(self, meta: bytes, raw: bytes) -> Fetched:
        uid = _FETCH_ITEM.search(meta)
        date = _INTERNALDATE.search(meta)
        arrived = datetime.now(UTC)
        if date:
            tt = imaplib.Internaldate2tuple(b'INTERNALDATE "' + date.group(1) + b'"')
            if tt:
                arrived = datetime.fromtimestamp(time.mktime(tt), UTC)
        return Fetched(raw=raw, arrived_at=arrived, source=self.name, uidvalidity=self.uidvalidity,
                       uid=uid.group(1).decode() if uid else None)

    def _mark(self, client: imaplib.IMAP4, uid: str) -> None:
        """Flag (and move) one message, or a batch given as a UID set ("4,7,9"): one round trip each."""
        typ, data = client.uid("STORE", uid, "+FLAGS.SILENT", f"({self.done_keyword})")
        if typ != "OK":
            raise SourceError(self.name, f"could not flag message {uid}: {data!r}")
        if self.done_folder:
            if "MOVE" in client.capabilities:
                typ, data = client.uid("MOVE", uid, _quote(self.done_folder))
            else:  # COPY only: the original stays, flagged; never expunge a person's mailbox
                typ, data = client.uid("COPY", uid, _quote(self.done_folder))
            if typ != "OK":
                raise SourceError(self.name, f"could not move message {uid}: {data!r}")

    def mark_all(self, batch: list[Fetched]) -> None:
        """Mark a stored batch done with one command (per MARK_BATCH messages), not a round trip each."""
        uids = [f.uid for f in batch if f.uid is not None]
        try:
            for start in range(0, len(uids), MARK_BATCH):
                self._mark(self._client(), ",".join(uids[start:start + MARK_BATCH]))
        except NETWORK_ERRORS as exc:
            self.box = None
            raise SourceError(self.name, str(exc)) from None

    def wait(self, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        """Block in IDLE until the server reports new mail, `timeout` passes or `stop()` is true (looked at
        every STOP_CHECK_SECONDS, so a stopping worker does not wait out IDLE_SECONDS); True when there may
        be news.

        A server reports a new message to a session once, in whichever response comes next: a FETCH or STORE
        of the sweep, the line that starts IDLE (often in the same packet as the continuation), or the lines
        that end it. A report read by anything but the wait itself would leave the message until the next
        sweep, so every one of those places counts:
        1. a report the sweep's own commands received (imaplib keeps untagged EXISTS) wakes at once;
        2. IDLE; reports before its continuation count;
        3. wait on the socket, unless the reader already holds what followed the continuation: anything the
           server says ends the wait, but only a report of new mail among it is news (a flag change the
           server reports late, or any other untagged line, must not send an idle worker sweeping);
        4. DONE; every report up to the tagged reply counts.
        """
        client = self._client()
        if not self.supports_idle:  # no news to wait for: look again after the timeout
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0 and not stop():
                time.sleep(min(left, STOP_CHECK_SECONDS))
            return True
        if _pop_news(client):  # 1.
            return True
        tag = client._new_tag()
        try:
            client.send(tag + b" IDLE\r\n")  # 2.
            news = False
            while not (line := client._get_line()).startswith(b"+"):
                if line.startswith(tag + b" "):  # refused: tell the caller to sweep instead
                    raise SourceError(self.name, f"IDLE refused: {line[:200]!r}")
                news |= _is_news(self.name, line)
            if not news:  # 3.
                _readable(client, timeout, stop)
            client.send(b"DONE\r\n")  # 4.
            while not (line := client._get_line()).startswith(tag + b" "):
                news |= _is_news(self.name, line)
            if not line[len(tag) + 1:].upper().startswith(b"OK"):
                raise SourceError(self.name, f"IDLE ended badly: {line[:200]!r}")
            return news
        except NETWORK_ERRORS as exc:
            self.box = None
            raise SourceError(self.name, f"IDLE interrupted: {exc}") from None
        finally:
            client.tagged_commands.pop(tag, None)

    def close(self) -> None:
        if self.box is not None:
            try:
                self.box.logout()
            except Exception:
                pass  # the connection is gone already; nothing to tidy up
        self.box = None


def _pop_news(client: imaplib.IMAP4) -> bool:
    """Whether the commands since the last SEARCH were told of new mail (and forget it: the next SEARCH sees it)."""
    client.untagged_responses.pop("RECENT", None)  # not news: moving our own mail away reports "* 0 RECENT"
    return client.untagged_responses.pop("EXISTS", None) is not None


def _is_news(source: str, line: bytes) -> bool:
    """`* 12 EXISTS` means new mail (RECENT is obsolete, and changes when our own mail leaves);
    `* BYE` means the server is going away."""
    upper = line.upper()
    if upper.startswith(b"* BYE"):
        raise SourceError(source, f"server closed the connection: {line[:200]!r}")
    return upper.startswith(b"* ") and upper.endswith(b" EXISTS")


def _readable(client: imaplib.IMAP4, timeout: float, stop: Callable[[], bool]) -> bool:
    """Whether the server says anything within `timeout` (or until `stop()`): bytes already read ahead count
    at once."""
    sock = client.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # decrypted already, so the socket itself will not signal it
    before = sock.gettimeout()
    sock.settimeout(0)
    try:
        if client.file.peek(1):  # type: ignore[union-attr]  # the reader's buffer, or one non-blocking read
            return True
    except (BlockingIOError, ssl.SSLWantReadError):
        pass
    finally:
        sock.settimeout(before)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0 and not stop():
        readable, _, _ = select.select([sock], [], [], min(left, STOP_CHECK_SECONDS))
        if readable:
            return True
    return False


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text
