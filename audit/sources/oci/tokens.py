"""Where a registry's credentials come from, and where they may go: a token provider is called for a secret
when a registry's token endpoint asks for one (Google's endpoints take it as the password of GOOGLE_USERNAME),
and the secret goes only to a token endpoint the registry may name (`may_send_credentials`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final
from urllib.parse import urlsplit

GOOGLE_USERNAME: Final = "oauth2accesstoken"

TokenProvider = Callable[[], str]


class StaticToken:
    """A token provider holding a fixed secret; its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "StaticToken(***)"


def google_adc_token_provider(
        scopes: Sequence[str] = ("https://www.googleapis.com/auth/cloud-platform",)) -> TokenProvider:
    """Access tokens from Application Default Credentials, refreshed when they expire."""
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=list(scopes))

    def provide() -> str:
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
        return str(credentials.token)

    return provide


def is_google_host(url: str) -> bool:
    """Whether `url` is on a Google registry host (Container Registry or Artifact Registry)."""
    host = urlsplit(url).hostname or ""
    return host == "gcr.io" or host.endswith((".gcr.io", "-docker.pkg.dev", ".pkg.dev"))


def host_key(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL, the port made explicit: what "the same host" compares."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or (443 if parts.scheme == "https" else 80)


def _google_token_endpoint(realm: str) -> bool:
    """Google's registries name their own token endpoint: https://<a Google registry host>/v2/token."""
    parts = urlsplit(realm)
    return parts.scheme == "https" and is_google_host(realm) and parts.path.rstrip("/") == "/v2/token" \
        and host_key(realm)[1] == 443


_HOST_RE: Final = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?$")


def parse_realm_host(text: str) -> tuple[str, int | None]:
    """`HOST` or `HOST:PORT` (IPv6 in brackets) of --registry-token-realm; ValueError naming the problem."""
    match = _HOST_RE.match(text.strip())
    port = int(match.group("port")) if match and match.group("port") else None
    if match is None or (port is not None and not 0 < port < 65536):
        raise ValueError(f"--registry-token-realm: expected HOST or HOST:PORT (no scheme, no path), got {text!r}")
    return (match.group("v6") or match.group("name")).lower(), port


def may_send_credentials(realm: str, registry_url: str, allowed_realm_hosts: Sequence[str] = ()) -> bool:
    """Whether a 401's Bearer `realm` may receive the scan's credentials: only the registry's own host
    (same host and port), a host the user allowed (`--registry-token-realm HOST[:PORT]`), or, for a Google
    registry, Google's token endpoint. Any other realm is a registry pointing the secret elsewhere."""
    realm_host, realm_port = host_key(realm)
    if not realm_host:
        return False
    if (realm_host, realm_port) == host_key(registry_url):
        return True
    for allowed in allowed_realm_hosts:
        host, port = parse_realm_host(allowed)
        if host == realm_host and port in (None, realm_port):
            return True
    return is_google_host(registry_url) and _google_token_endpoint(realm)


def token_provider_for(url: str, static_token: str | None) -> TokenProvider | None:
    """The given token when there is one, else Application Default Credentials for a Google host, else none
    (anonymous: ADC must never go to a registry that is not Google's)."""
    if static_token:
        return StaticToken(static_token)
    return google_adc_token_provider() if is_google_host(url) else None
