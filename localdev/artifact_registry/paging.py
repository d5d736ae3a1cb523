"""Paging as the Artifact Registry list calls do it (AIP-158).

ListRepositories / ListDockerImages: "Maximum page size is 1,000". The default is not documented;
100 is our choice, and oversize requests are coerced to the maximum. Page tokens are opaque to the
client, so the fake signs them and binds each to the collection it pages: a forged token, or one
taken from another collection, is refused with 400 INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from .wire import ApiError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_SIGNATURE_BYTES = 8


def page_size(raw: str | None) -> int:
    """The page size a request's `pageSize` parameter asks for, after the API's defaults and cap."""
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for pageSize: {raw}") from None
    if size < 0:
        raise ApiError(400, "pageSize must not be negative.")
    return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class PageTokens:
    """Issues and reads page tokens: a collection's name and an offset, signed with a key of its own."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def token(self, collection: str, offset: int) -> str:
        """The token for the page of `collection` that starts at `offset`."""
        payload = f"{collection}\n{offset}".encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def offset(self, collection: str, token: str | None) -> int:
        """Where the page `token` asks for starts (0 without a token); ApiError 400 for a token this
        object did not issue for `collection`."""
        if not token:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise ValueError("signature")
            owner, offset = payload.decode().split("\n")
            if owner != collection:
                raise ValueError("collection")
            return int(offset)
        except ValueError:
            raise ApiError(400, "The page token is invalid.") from None
