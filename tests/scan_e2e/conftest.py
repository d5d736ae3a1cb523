"""Fixtures for the end-to-end scan tests (see scan_support)."""

from scan_support import estate  # noqa: F401  (pytest fixture)
