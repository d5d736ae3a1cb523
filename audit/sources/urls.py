"""The one rule for where a source may send requests (https, and plain http only to a loopback host, never
with credentials in the URL), and what makes two URLs the same origin."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit


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
    """Only https, except plain http to a loopback host (local registries, tests); never user info
    (`https://user:secret@host`): the message names the host only, so the secret is not echoed."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError(f"refusing a URL with credentials in it (user:password@) for host {parts.hostname or '?'}: "
                         "a registry is named by its origin alone; give a token with --registry-token-env")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise ValueError(
        f"refusing {parts.scheme or 'scheme-less'} URL to host {parts.hostname or '?'}: only https is "
        "allowed (plain http only to loopback: 127.0.0.0/8, ::1, localhost)"
    )


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port made explicit: pages are followed only within one origin."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # no origin matches an invalid port
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port if port is not None else (443 if scheme == "https" else 80)


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to its query (what it already has is kept)."""
    if not params:
        return url
    parts = urlsplit(url)
    return parts._replace(query="&".join(q for q in (parts.query, urlencode(params)) if q), fragment="").geturl()
