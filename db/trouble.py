"""Which database errors are the database's trouble rather than the data's: a deadlock, a serialization
failure, a lock not had in time, a connection lost, a server shutting down or out of resources. A message whose
storing meets one is tried again later (bot/storing.py), not quarantined: it is not the message's fault. Any
other error (a value the database refuses: too long for an index, a byte it cannot store) is the message's, and
quarantines it, so that no message is retried for ever."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# SQLSTATE classes and codes (PostgreSQL, Appendix A): 08 connection exception, 53 insufficient resources,
# 57P operator intervention (a shutdown, a server not yet accepting connections), 40001 serialization failure,
# 40P01 deadlock detected, 55P03 lock not available.
_CLASSES = ("08", "53", "57P")
_CODES = frozenset({"40001", "40P01", "55P03"})
# SQLite says so in words (its OperationalError carries no code on Python 3.11).
_SQLITE_WORDS = ("database is locked", "database table is locked", "disk i/o error", "unable to open database")


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is the database's trouble (see the module's docstring); False for anything else."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlstate", None)
    if isinstance(code, str) and code:
        return code in _CODES or code.startswith(_CLASSES)
    text = str(exc.orig).lower()
    return type(exc.orig).__module__.startswith("sqlite3") and any(words in text for words in _SQLITE_WORDS)
