"""Severities, and the one order every tool and format sorts and thresholds them by."""

from __future__ import annotations

from typing import Final, Literal, get_args

Severity = Literal["low", "medium", "high", "critical"]

# Least to most severe.
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
# Most to least severe: how reports list and count them.
MOST_SEVERE_FIRST: Final[tuple[Severity, ...]] = tuple(reversed(SEVERITIES))


def severity_rank(severity: str) -> int:
    """1 for low up to 4 for critical; ValueError for anything else."""
    try:
        return SEVERITIES.index(severity) + 1
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}") from None


def is_severity(value: object) -> bool:
    return value in SEVERITIES
