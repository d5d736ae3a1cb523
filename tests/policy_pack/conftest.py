"""The policy pack tests use the session's real pack process (`pack`, `configured`: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

PACK_DIR = Path(__file__).resolve().parents[2] / "policy-pack"
