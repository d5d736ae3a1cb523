"""One loopback rule for plain http (and, for Artifact Registry, anonymous credentials), pinned for both sources."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials

from audit.sources.artifact_registry import make_client
from audit.sources.urls import check_url_allowed, is_loopback_host

LOOPBACK = ["127.0.0.1", "127.8.9.10", "127.255.255.254", "[::1]", "localhost", "LOCALHOST"]
NOT_LOOPBACK = [
    # RFC 6761 names a resolver may still send to DNS: refused (fail safe).
    "registry.localhost", "a.b.localhost", "localhost.",
    # Look like loopback, are not.
    "localhost.example.com", "notlocalhost", "127.0.0.1.nip.io", "0.0.0.0", "[::]",
    # Spellings inet_aton would read as 127.0.0.1: not literals we can vouch for.
    "127.1", "2130706433", "0x7f.0.0.1",
    "10.0.0.1", "registry.example.com",
]


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)
    check_url_allowed(f"http://{host}:5000/v2/")
    client = make_client(f"http://{host}:5000")
    # Plain http never carries ADC: the client is anonymous unless credentials are given.
    assert isinstance(client._transport._credentials, AnonymousCredentials)


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_everything_else_needs_https(host: str) -> None:
    assert not is_loopback_host(host)
    with pytest.raises(ValueError, match="only https"):
        check_url_allowed(f"http://{host}:5000/v2/")
    with pytest.raises(ValueError, match="must be loopback"):
        make_client(f"http://{host}:5000")
    with pytest.raises(ValueError, match="must be loopback"):
        make_client(f"HTTP://{host}:5000")  # the scheme's case does not matter
    check_url_allowed(f"https://{host}:5000/v2/")
