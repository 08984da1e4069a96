"""Parsers of untrusted files run in child processes with hard limits, so a file costs only itself.

A native library fed a hostile file can abort the process (python-calamine asks for 512 GB for a
5 KB sheet), exhaust memory or loop for ever; no `try` contains that. Every reader of attachment
bytes therefore runs in a small pool of reused worker processes (pebble: a dead or timed-out worker
fails only its own task and is replaced, unlike the stdlib pool, which breaks for everyone):

- address space (RLIMIT_AS) set once per worker, so an allocation beyond it fails inside the child;
- CPU seconds per task (the worker's soft RLIMIT_CPU is moved to "used so far + budget" before each
  task; SIGXCPU ends that worker only);
- a wall-clock timeout per task (pebble kills the worker);
- no core files;
- a lower CPU priority (`Limits.nice`): the storing process, and a database on the same host, come first.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import resource
import threading
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from pebble import ProcessExpired, ProcessPool

from intake.errors import IntakeError

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Per-task limits of a parser worker (generous for a real form of tens of thousands of rows)."""

    memory_mb: int = 1024
    cpu_seconds: int = 20
    wall_seconds: float = 30.0
    workers: int = 2
    # Added to the workers' niceness. In a backlog the storing process is the slowest stage, and each of its
    # statements waits for the database: workers at the same priority held the core that the storing process or
    # the server had just been woken up for, and the pipeline kept its two cores busy 78-82 % of a backlog's time
    # (89-95 % with the workers at 10-19; PostgreSQL's rate +17-43 %, SQLite's +3-5 %: docs/changelog.md).
    # The workers read ahead, so they lose nothing by waiting; 10 still gives them a tenth of a core against a
    # busy process of normal priority, so a file is not timed out by a host busy with something else.
    nice: int = 0


class SandboxFailure(IntakeError):
    """A sandboxed task died (abort, out of memory, CPU limit) or ran past its wall-clock limit."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"parser {kind}: {detail}")
        self.kind = kind  # crashed | timeout | memory


class ParsersUnavailable(IntakeError):
    """No parser worker can run at all (their pool cannot start: no processes, no memory, no shared memory left),
    so a task's failure says nothing about its message. Not the message's fault: it is left for the next poll,
    its attempt not counted (bot/storing.py), instead of quarantined, which a broken pool did to every message
    of a backlog, each answered that it could not be read."""


def _init_worker(memory_bytes: int, nice: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if nice > 0:  # lowering one's own priority needs no privilege
        os.nice(nice)


def _call(fn: Callable[..., T], cpu_seconds: int, args: tuple[Any, ...]) -> bytes:
    """Run `fn` in the worker with `cpu_seconds` more CPU time than it has used so far; its value pickled."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    try:
        value = fn(*args)
    except MemoryError:
        raise SandboxFailure("memory", "the file needs more memory than a parser may use") from None
    # Pickled here and unpickled by the thread that asks for it (`Sandbox.result`), not by the pool's
    # result thread: there it cost several times as much CPU (it competes for the GIL with the storing).
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


# The pool each task was given to, so that waiting for its result notices the pool stopping (below), and the
# sandbox, which is asked whether any worker can run when a task fails (`Sandbox.result`).
_POOL_OF: WeakKeyDictionary[Future[Any], ProcessPool] = WeakKeyDictionary()
_SANDBOX_OF: WeakKeyDictionary[Future[Any], Sandbox] = WeakKeyDictionary()
_POLL_SECONDS = 1.0


def _outcome(future: Future[Any]) -> Any:
    """The future's result, waited for while its pool lives. A pool whose workers cannot start (or whose
    manager threads died) breaks: pebble fails the tasks it knew of, but one it was handing to a worker when
    that worker died is never finished, and waiting for it hung intake for good (seen when a worker's start
    failed). Such a task fails here within a second of its pool stopping; the next task starts a new pool."""
    pool = _POOL_OF.get(future)
    while True:
        if pool is not None and not future.done() and not pool.active:
            raise SandboxFailure("crashed", "the parser pool stopped (its workers could not run)")
        try:
            return future.result(timeout=None if pool is None else _POLL_SECONDS)
        except FutureTimeout:
            if future.done():  # the task's own wall-clock limit (the same exception class)
                raise
        except BrokenProcessPool:  # the tasks pebble knew of when its pool broke
            raise SandboxFailure("crashed", "the parser pool stopped (its workers could not run)") from None


def _value(future: Future[T]) -> T:
    """The task's value, or SandboxFailure when its worker died or overran, or its pool stopped."""
    try:
        return cast(T, pickle.loads(cast(bytes, _outcome(future))))
    except FutureTimeout:
        raise SandboxFailure("timeout", "the file took too long to read") from None
    except ProcessExpired as exc:
        # A failed allocation aborts (SIGABRT); SIGXCPU is the CPU limit.
        kind = {-6: "memory", -24: "timeout"}.get(exc.exitcode or 0, "crashed")
        raise SandboxFailure(kind, f"worker exit code {exc.exitcode}") from None


class Sandbox:
    """A lazily started pool of parser workers; `submit` many, then `result` each."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def _started(self) -> ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                # forkserver: workers start from a clean, single-threaded process, not from a copy of the
                # worker with its scheduler threads and database connections.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["intake.reading"])
                self._pool = ProcessPool(max_workers=self.limits.workers, initializer=_init_worker,
                                         initargs=(self.limits.memory_mb * 1024 * 1024, self.limits.nice), context=context)
                atexit.register(self.close)
            return self._pool

    @property
    def started(self) -> bool:
        """Whether any worker has been started (a stranger's message never starts one)."""
        return self._pool is not None

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Start `fn(*args)` in a worker. Its value travels pickled: read it with `result`, not the future's own.
        ParsersUnavailable when no pool can be started (the system refuses a process, a semaphore, memory)."""
        future = self._schedule(fn, *args)
        _SANDBOX_OF[future] = self
        return future

    def _schedule(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        try:
            pool = self._started()
            future = pool.schedule(_call, args=(fn, self.limits.cpu_seconds, args), timeout=self.limits.wall_seconds)
        except (OSError, RuntimeError) as exc:  # pebble's "pool not running", fork's EAGAIN, /dev/shm full...
            raise ParsersUnavailable(f"the parser workers cannot start: {type(exc).__name__}: {exc}") from exc
        _POOL_OF[future] = pool
        return cast("Future[T]", future)

    @staticmethod
    def result(future: Future[T]) -> T:
        """The task's value; SandboxFailure when its worker died or overran, or its pool stopped (other exceptions
        pass through); ParsersUnavailable instead when, asked then, no worker can run a trivial task either."""
        try:
            return _value(future)
        except SandboxFailure as exc:
            sandbox = _SANDBOX_OF.get(future)
            if sandbox is not None and not sandbox.works():
                raise ParsersUnavailable(f"no parser worker can run ({exc})") from exc
            raise

    def works(self) -> bool:
        """Whether a worker answers a trivial task now (on a new pool when the last one stopped): asked only after
        a task failed, to tell a message that breaks its worker from workers that cannot run at all."""
        try:
            return _value(self._schedule(os.getpid)) > 0
        except Exception:  # noqa: BLE001 - whatever stops a trivial task, the workers cannot run
            return False

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        return self.result(self.submit(fn, *args))

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.stop()
                self._pool.join()
                self._pool = None
