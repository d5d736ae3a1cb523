"""Where a registry's credentials come from: a token provider is called for a secret when a registry's
token endpoint asks for one (Google's endpoints take it as the password of GOOGLE_USERNAME)."""

from __future__ import annotations

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


def token_provider_for(url: str, static_token: str | None) -> TokenProvider | None:
    """The given token when there is one, else Application Default Credentials for a Google host, else none
    (anonymous: ADC must never go to a registry that is not Google's)."""
    if static_token:
        return StaticToken(static_token)
    return google_adc_token_provider() if is_google_host(url) else None
