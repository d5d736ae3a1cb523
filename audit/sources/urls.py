"""The one rule for where a source may send requests: https, and plain http only to a loopback host."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str) -> bool:
    """Whether plain http (and, for Artifact Registry, no credentials) may go to `host`: a loopback
    IP literal or exactly `localhost`. The one rule for every source.

    `*.localhost` and `localhost.` are refused: RFC 6761 §6.3 says resolvers SHOULD, not MUST, answer
    them with loopback, and glibc without nss-myhostname asks DNS, which could answer with a remote
    host. `localhost` itself is in /etc/hosts by convention. Fail safe: when unsure, https."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_url_allowed(url: str) -> None:
    """Only https, except plain http to a loopback host (local registries, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise ValueError(
        f"refusing {parts.scheme or 'scheme-less'} URL to host {parts.hostname or '?'}: only https is "
        "allowed (plain http only to loopback: 127.0.0.0/8, ::1, localhost)"
    )
