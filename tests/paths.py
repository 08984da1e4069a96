"""Where things are, for tests at any depth of tests/ (they mirror the source tree)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent  # the project
DATA = TESTS / "data"  # golden files and files other software wrote
