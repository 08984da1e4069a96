"""Shared pieces: a real Dovecot and aiosmtpd (from the tests' helpers), RSS readings, table printing."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import App, build_app
from config.settings import settings_from_mapping
from tests import servers

DOMAIN = "anamai.example.go.th"
SECRETARIAT = f"saraban@{DOMAIN}"


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class CpuUse:
    """CPU seconds spent while a block ran: by this process (all its threads) and by the bench's process tree (this
    process, its parser workers, the Dovecot it started; not other jobs on the machine, nor a PostgreSQL server
    it did not start), with the wall time and the machine's cores."""

    wall: float = 0.0
    own: float = 0.0
    tree: float = 0.0
    server: float = 0.0  # a local PostgreSQL server's processes (not the bench's tree, but on the same cores)
    cores: int = 1

    def per(self, n: int) -> tuple[float, float]:
        """Milliseconds per item: this process's, and the rest of its tree's (workers, Dovecot). The tree is read
        in clock ticks (10 ms) and this process to the microsecond: when the rest spent next to nothing, the
        difference may come out a tick below zero, which is shown as zero."""
        return self.own / n * 1000, max(self.tree - self.own, 0.0) / n * 1000


def _busy() -> tuple[float, float]:
    """CPU seconds of this process and every descendant alive now, with what reaped children spent, and of the
    processes named `postgres` (a local PostgreSQL server's) (Linux /proc: utime, stime, cutime, cstime in clock
    ticks)."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    server = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                name, _, rest = fh.read().partition(" (")[2].rpartition(")")
                fields = rest.split()
        except OSError:  # it ended meanwhile
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(v) for v in fields[11:15])
        if name == "postgres":
            server += times[int(entry)]
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    tick = os.sysconf("SC_CLK_TCK")
    return sum(times.get(pid, 0) for pid in mine) / tick, server / tick


@contextmanager
def cpu_use() -> Iterator[CpuUse]:
    out = CpuUse(cores=os.cpu_count() or 1)
    own, (tree, server), start = time.process_time(), _busy(), time.perf_counter()
    yield out
    out.wall = time.perf_counter() - start
    out.own = time.process_time() - own
    tree_after, server_after = _busy()
    out.tree, out.server = tree_after - tree, server_after - server


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


@contextmanager
def timer() -> Iterator[list[float]]:
    out: list[float] = []
    start = time.perf_counter()
    yield out
    out.append(time.perf_counter() - start)


def units_csv(n: int) -> str:
    return "code,name,senders,contacts,active\n" + "".join(
        f"U{i:04d},หน่วยงานที่ {i},u{i:04d}@{DOMAIN},,yes\n" for i in range(n))


def make_bench_app(folder: Path, units: int, **env: str) -> App:
    (folder / "units.csv").write_text(units_csv(units), encoding="utf-8")
    mapping = {"DATA_DIR": str(folder / "data"), "UNITS_FILE": str(folder / "units.csv"),
               "SECRETARIAT_EMAIL": SECRETARIAT, "SECRET_KEY": "bench-secret-7d2f9b1c4e8a6035f2c9e1b7a4d8", "SMTP_URL": f"file:{folder / 'sent'}", **env}
    return build_app(settings_from_mapping(mapping, base_dir=folder))


def dovecot() -> servers.Dovecot:
    if not servers.ensure_dovecot():
        raise SystemExit("Dovecot is needed: apt-get install dovecot-imapd")
    return servers.start_dovecot()


def workdir(name: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"cb-bench-{name}-"))
    path.chmod(0o755)
    return path


def table(title: str, rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print(f"\n{title}")
    for j, row in enumerate(rows):
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
        if j == 0:
            print("  " + "  ".join("-" * w for w in widths))
