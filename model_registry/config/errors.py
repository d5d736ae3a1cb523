"""The one error a bad stack config raises, shared by every part of the config package."""

from __future__ import annotations


class ConfigError(ValueError):
    """A stack config value is missing or malformed. The message is one line: key, then what is allowed."""
