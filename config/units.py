"""The unit registry: a CSV file (editable in Excel) listing each unit and its addresses."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from config.errors import RegistryError

_EMAIL = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)+$")
REQUIRED_COLUMNS = ("code", "name", "senders")
EXAMPLE_REGISTRY = Path(__file__).parent / "units.example.csv"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    senders: tuple[str, ...]
    contacts: tuple[str, ...]
    active: bool = True
    line: int = 0  # its line in the CSV file, for messages a person acts on


def _addresses(cell: str) -> tuple[str, ...]:
    return tuple(a.strip().lower() for a in re.split(r"[;,\s]+", cell or "") if a.strip())


class UnitRegistry:
    """Units by code and by sender address; one address may serve several units."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        self._by_code = {u.code: u for u in units}
        self._by_sender: dict[str, list[Unit]] = {}
        for unit in units:
            for addr in unit.senders:
                self._by_sender.setdefault(addr, []).append(unit)
        # For find_by_name: names without spaces, longest first, and one pattern for every code.
        self._names = sorted(((re.sub(r"\s+", "", u.name).lower(), u) for u in units if u.name.strip()),
                             key=lambda item: -len(item[0]))
        # Names by length, longest first: a text is looked up slice by slice (a dict probe per position and
        # length), not name by name, so a registry of a thousand units costs what one of ten does.
        self._by_length: dict[int, dict[str, int]] = {}
        for i, (name, _) in enumerate(self._names):
            self._by_length.setdefault(len(name), {}).setdefault(name, i)  # equal names: the first registered
        # Where a name can start: its first characters (most positions of a header start none).
        self._lead = min([2, *(len(name) for name, _ in self._names)])
        self._starts = {name[:self._lead] for name, _ in self._names}
        codes = sorted((re.escape(u.code) for u in units), key=len, reverse=True)
        self._codes = re.compile(rf"(?<![A-Za-z0-9])({'|'.join(codes)})(?![A-Za-z0-9])", re.IGNORECASE) if codes else None

    @property
    def active(self) -> list[Unit]:
        return [u for u in self.units if u.active]

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code.strip().upper())

    def for_sender(self, address: str) -> list[Unit]:
        """Active units that accept reports from this exact address."""
        return [u for u in self._by_sender.get(address.strip().lower(), []) if u.active]

    def find_by_name(self, text: str) -> Unit | None:
        """The unit whose code or name appears in a form header such as `หน่วยงาน ศูนย์อนามัยที่ 1`."""
        squashed = re.sub(r"\s+", "", text).lower()
        # The longest name that appears wins ("…ที่ 10" over "…ที่ 1"); of equal length, the first registered.
        lead, starts = self._lead, self._starts
        positions = [i for i in range(len(squashed) - lead + 1) if squashed[i:i + lead] in starts]
        if len(positions) * len(self._by_length) <= len(self._names):  # a header: few places a name may start
            for length, names in self._by_length.items():  # longest first (insertion order)
                at = [names[piece] for i in positions if (piece := squashed[i:i + length]) in names]
                if at:
                    return self._names[min(at)][1]
        else:  # a long or odd text: one substring search per name (in C) is cheaper
            for name, unit in self._names:
                if name in squashed:
                    return unit
        found = self._codes.search(text) if self._codes else None
        return self._by_code.get(found.group(1).upper()) if found else None

    def check(self) -> list[str]:
        """Registry mistakes a person must fix (intake refuses to start with them), one sentence each."""
        problems: list[str] = []
        for unit in self.units:
            where = f"line {unit.line}, {unit.code}" if unit.line else unit.code
            if not unit.senders:
                problems.append(f"{where}: no sender addresses")
            for addr in dict.fromkeys(unit.senders + unit.contacts):
                if not _EMAIL.match(addr):
                    problems.append(f"{where}: {addr!r} is not a valid e-mail address")
        return problems

    def warnings(self) -> list[str]:
        """Things the product supports but a person should know: an address shared by several units."""
        out = []
        for addr, units in self._by_sender.items():
            if len(units) > 1:
                codes = ", ".join(u.code for u in units)
                out.append(f"{addr} is a sender for several units ({codes}); its forms must name the unit, "
                           "otherwise the message waits for a person")
        return out


def parse_registry(text: str, source: str = "units file") -> UnitRegistry:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise RegistryError("UNITS_FILE", f"{source} lacks the column(s) {', '.join(missing)}")
    units: list[Unit] = []
    seen: set[str] = set()
    for lineno, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        code = row.get("code", "").upper()
        if not code:
            continue
        if code in seen:
            raise RegistryError("UNITS_FILE", f"{source} line {lineno}: unit code {code} appears twice")
        seen.add(code)
        senders = _addresses(row.get("senders", ""))
        contacts = _addresses(row.get("contacts", "")) or senders
        active = row.get("active", "").lower() not in ("0", "false", "no", "n", "ไม่", "inactive")
        units.append(Unit(code=code, name=row.get("name", code), senders=senders, contacts=contacts, active=active,
                          line=lineno))
    return UnitRegistry(units)


def is_example_registry(path: Path) -> bool:
    """The registry file is still the shipped example (copied, not filled in)."""
    try:
        return path.read_bytes().strip() == EXAMPLE_REGISTRY.read_bytes().strip()
    except OSError:
        return False


def load_registry(path: Path) -> UnitRegistry:
    if not path.exists():
        raise RegistryError("UNITS_FILE", f"UNITS_FILE {path} does not exist: copy config/units.example.csv and fill it in")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Thai Windows saves CSV in cp874.
        text = raw.decode("cp874", errors="replace")
    return parse_registry(text, source=str(path))
