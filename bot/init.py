"""`complaint-bot init`: a commented .env and a unit registry to fill in; never overwrites."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from config.declared import env_example

CONFIG = Path(__file__).resolve().parent.parent / "config"


class InitError(Exception):
    """init cannot go on (a file exists, a value is missing)."""


def env_text(values: dict[str, str]) -> str:
    """The commented example with the given keys filled in (uncommented where they were commented)."""
    text = env_example()
    for key, value in values.items():
        line = f"{key}={value}"
        pattern = re.compile(rf"^#?{re.escape(key)}=.*$", re.MULTILINE)
        found = pattern.search(text)
        # Replaced by position, not with re.sub: a password may hold backslashes re.sub would interpret.
        text = text[:found.start()] + line + text[found.end():] if found else text + f"\n{line}\n"
    return text


def imap_url(host: str, user: str, password: str, folder: str = "INBOX", port: int = 993) -> str:
    return f"imaps://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(folder)}"


def smtp_url(host: str, user: str, password: str, port: int = 587) -> str:
    scheme = "smtps" if port == 465 else "smtp+starttls"
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"


def write_files(folder: Path, values: dict[str, str]) -> list[Path]:
    env, units = folder / ".env", folder / "units.csv"
    existing = [p for p in (env, units) if p.exists()]
    if existing:
        raise InitError(f"{', '.join(str(p) for p in existing)} already exist(s); init never overwrites")
    folder.mkdir(parents=True, exist_ok=True)
    env.write_text(env_text(values), encoding="utf-8")
    env.chmod(0o600)  # it holds the mailbox password
    units.write_text((CONFIG / "units.example.csv").read_text(encoding="utf-8"), encoding="utf-8")
    return [env, units]
