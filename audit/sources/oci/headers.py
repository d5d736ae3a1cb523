"""Pure parsers of the response headers the scan acts on (property-tested: they never raise on arbitrary
text): the bearer challenge of a 401, the next page of a Link header, and a Retry-After delay."""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Final


@dataclass(frozen=True)
class BearerChallenge:
    realm: str
    service: str | None = None
    scope: str | None = None


_PARAM_RE: Final = re.compile(r'([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def parse_www_authenticate(header: str) -> BearerChallenge | None:
    """`Bearer realm="…",service="…",scope="…"` -> BearerChallenge; anything else -> None."""
    text = header.strip()
    if text[:6].lower() != "bearer" or (len(text) > 6 and not text[6].isspace()):
        return None
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(text[6:]):
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(match.group(1).lower(), value)
    realm = params.get("realm")
    if not realm:
        return None
    return BearerChallenge(realm, params.get("service") or None, params.get("scope") or None)


_LINK_RE: Final = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,<]*)*)")


def parse_link_next(header: str) -> str | None:
    """The `rel="next"` target of an RFC 8288 Link header (possibly relative), or None."""
    for match in _LINK_RE.finditer(header):
        for param in match.group(2).split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return match.group(1).strip()
    return None


def parse_retry_after(header: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not header:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():  # str.isdigit() also accepts "²" and other non-ASCII digits
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
