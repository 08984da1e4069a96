"""IDLE never loses news: mail arriving at any moment around a sweep wakes the worker (real Dovecot).

A server reports a new message to a session once, in whatever response comes next: a FETCH or STORE of the
sweep, the line that starts IDLE, or the one that ends it. Each test makes mail arrive at one of those moments
and asks `wait` to wake at once; a lost report would leave the message until the next sweep (minutes).
"""

from __future__ import annotations

import ssl
import threading
import time
from datetime import datetime

import pytest

from config.settings import ImapSettings
from intake.mailbox import ImapSource
from tests.conftest import BKK, SECRETARIAT
from tests.servers import PASSWORD
from bot.samples import make_mail

pytestmark = pytest.mark.imap
KEYWORD = "ComplaintBotDone"


@pytest.fixture(params=["plain", "tls"])
def connect(request, dovecot):  # type: ignore[no-untyped-def]
    """ImapSources over plain TCP and over TLS (TLS reads ahead in its own buffer, which select cannot see),
    closed when the test ends."""
    made: list[ImapSource] = []

    def factory(user: str, done_folder: str | None = None) -> ImapSource:
        tls = request.param == "tls"
        settings = ImapSettings(secure=tls, host="127.0.0.1", port=dovecot.tls_port if tls else dovecot.port,
                                user=user, password=PASSWORD, folder="INBOX")
        context = ssl.create_default_context(cafile=str(dovecot.cert)) if tls else None
        made.append(ImapSource(settings, KEYWORD, done_folder, ssl_context=context))
        return made[-1]

    yield factory
    for source in made:
        source.close()


def _append(dovecot, user: str, n: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(BKK)
    dovecot.append(user, make_mail(sender="hpc01@example.go.th", to=SECRETARIAT, subject=f"รายงาน {n}",
                                   body="ไม่มีข้อร้องเรียนครับ", date_=now), now)


def _nothing_known(source: str, uidvalidity: int | None, uids: list[str]) -> set[str]:
    return set()


def _sweep(source: ImapSource, during: object = None) -> list[str]:
    """fetch_new and mark everything, as poll_once does; `during()` runs between the SEARCH and the marks."""
    batch = []
    for fetched in source.fetch_new(_nothing_known):
        batch.append(fetched)
        if callable(during):
            during()
            during = None
    source.mark_all(batch)
    return [str(f.uid) for f in batch]


def _woken_within(source: ImapSource, seconds: float) -> bool:
    """Whether the worker's waits (as bot/runner.py waits: again after one that ended with no news) are told of new
    mail within `seconds`. A wait also ends, without news, on anything else the server says: under load Dovecot
    was seen to send `* OK Still here` a second into IDLE, and report the new mail in the next wait's IDLE."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if source.wait(left):
            return time.monotonic() < deadline
    return False


def test_mail_arriving_during_a_sweep_wakes_the_next_wait(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    _append(dovecot, imap_user, 1)
    source = connect(imap_user)
    # The second message arrives after the SEARCH: the server reports it in the STORE's response.
    assert _sweep(source, during=lambda: _append(dovecot, imap_user, 2)) == ["1"]
    assert _woken_within(source, 5)
    assert _sweep(source) == ["2"]


def test_mail_arriving_between_a_sweep_and_idle_wakes_it(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    source = connect(imap_user)
    assert _sweep(source) == []
    _append(dovecot, imap_user, 1)  # reported with IDLE's own continuation, often in the same packet
    assert _woken_within(source, 5)
    assert _sweep(source) == ["1"]


def test_mail_arriving_while_idle_wakes_it(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    source = connect(imap_user)
    assert _sweep(source) == []
    later = threading.Timer(0.5, _append, (dovecot, imap_user, 1))
    later.start()
    assert _woken_within(source, 5)
    later.join()
    assert _sweep(source) == ["1"]


def test_a_quiet_mailbox_waits_the_whole_timeout_and_says_so(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    source = connect(imap_user)
    assert _sweep(source) == []
    started = time.monotonic()
    assert source.wait(1.5) is False
    assert 1.4 < time.monotonic() - started < 5
    # The connection is still usable after IDLE ends.
    _append(dovecot, imap_user, 1)
    assert _woken_within(source, 5)
    assert _sweep(source) == ["1"]


def test_mail_a_search_does_not_see_still_wakes_the_wait(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    # Dovecot answers SEARCH from the session's view and only then reports the mail that came meanwhile:
    # a sweep can miss a message and still be told of it. That report must not be forgotten.
    source = connect(imap_user)
    assert _sweep(source) == []
    _append(dovecot, imap_user, 1)
    missed = _sweep(source)
    assert _woken_within(source, 5)
    assert missed + _sweep(source) == ["1"]


def test_a_stopping_worker_leaves_idle_at_once(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    source = connect(imap_user)
    stop = threading.Event()
    assert _sweep(source) == []
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert source.wait(60, stop.is_set) is False
    assert time.monotonic() - started < 3  # not the 60 s asked for
    _append(dovecot, imap_user, 1)  # IDLE was ended properly: the session goes on
    assert _woken_within(source, 5)
    assert _sweep(source) == ["1"]


@pytest.mark.parametrize("done_folder", [None, "Processed"])
def test_the_workers_own_marks_do_not_wake_it(dovecot, imap_user, connect, done_folder) -> None:  # type: ignore[no-untyped-def]
    # Flagging (and moving) what it stored makes the server report changes too; only new mail may wake the
    # worker, or an idle worker would sweep in a loop.
    source = connect(imap_user, done_folder)
    _append(dovecot, imap_user, 1)
    _append(dovecot, imap_user, 2)
    assert _sweep(source) == ["1", "2"]
    assert source.wait(1.0) is False
    assert _sweep(source) == []


def test_a_person_reading_the_mailbox_does_not_wake_it(dovecot, imap_user, connect) -> None:  # type: ignore[no-untyped-def]
    """A person may read the mailbox the bot watches: the server tells the idle worker of each flag they change
    (`* 1 FETCH (FLAGS ...)`), and that is not new mail. The wait ends (the server spoke) but says so, and the
    worker does not sweep for it."""
    source = connect(imap_user)
    _append(dovecot, imap_user, 1)
    assert _sweep(source) == ["1"]

    def a_person_reads_it() -> None:
        client = dovecot.client(imap_user)
        client.select("INBOX")
        client.store("1", "+FLAGS", "\\Seen")
        client.logout()

    later = threading.Timer(0.3, a_person_reads_it)
    later.start()
    assert source.wait(3.0) is False
    later.join()
    _append(dovecot, imap_user, 2)  # new mail still wakes it
    assert _woken_within(source, 5)
    assert _sweep(source) == ["2"]
