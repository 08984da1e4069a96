"""`python -m bench NAME [--n N]`: run one benchmark (or all) and print its table."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corrections, digest, intake, latency, scaleout, send, startup, workbook, writers  # noqa: E402

BENCHES = {"intake": intake.main, "corrections": corrections.main, "latency": latency.main, "workbook": workbook.main, "digest": digest.main,
           "writers": writers.main, "scaleout": scaleout.main, "startup": startup.main, "send": send.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=[*BENCHES, "all"])
    parser.add_argument("--n", type=int, default=0, help="size (messages, rows, cases); 0 = the issue's size")
    parser.add_argument("--repeat", type=int, default=1, help="intake: runs per shape, to show the spread")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite",
                        help="intake: the database (both: each shape on SQLite and PostgreSQL in the same run)")
    args = parser.parse_args()
    # One correction after another from one unit meets the receipt limit: a warning per message would bury the tables.
    logging.getLogger("complaint_bot").setLevel(logging.ERROR)
    for name, fn in BENCHES.items():
        if args.name in (name, "all"):
            if name == "intake":
                intake.main(args.n, args.repeat, ("sqlite", "postgresql") if args.db == "both" else (args.db,))
            else:
                fn(args.n)


if __name__ == "__main__":
    main()
