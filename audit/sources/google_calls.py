"""Calling Google's APIs for the audit: which failures mean "not read" (never a crash), which are worth
retrying, and why a call failed in words safe to put in a report (tokens, page tokens, keys and machine paths
removed). Every source that calls a Google client uses these, so a failure reads the same in every report."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import requests
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth import exceptions as auth_exceptions
from google.protobuf import json_format

_MESSAGE_LIMIT: Final = 400

_REDACTIONS: Final = (
    # A URL's query can hold page tokens (and, with some clients, keys): drop it whole.
    (re.compile(r"(https?://[^\s?'\"]+)\?[^\s'\"]*?(?=:\s|[\s'\"]|$)"), r"\1"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer ***"),
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), "***"),
    (
        re.compile(
            r"(?i)\b(page_?token|access_?token|token|api_?key|key|password|secret)"
            r"([\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"
        ),
        r"\1\2***",
    ),
)
_FILE_PATH: Final = re.compile(r"(?<![\w:/])/[^\s'\"]+")
_METHOD_URL_PREFIX: Final = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD) \S+: ")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def describe_failure(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """Why a call failed, in words safe to put in a report."""
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause
        why = describe_failure(cause, secrets) if cause is not None else "no response"
        return f"still failing when the retry deadline ran out: {why}"
    if isinstance(exc, gexc.GoogleAPICallError):
        status = exc.code if exc.code is not None else "?"
        # api_core prefixes "GET <url>: "; the URL adds nothing but a place for tokens to leak.
        message = _METHOD_URL_PREFIX.sub("", str(exc.message or ""))
        return scrub(f"{type(exc).__name__} ({status}): {message}", secrets)
    if isinstance(exc, PagingLoopError):
        return str(exc)
    if isinstance(exc, json_format.ParseError):
        return "the response was not valid Artifact Registry JSON"
    if isinstance(exc, requests.RequestException):
        return scrub(f"{type(exc).__name__}: connection to the endpoint failed", secrets)
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        # google-auth's own words say how to set credentials up; they hold a file name at most, never a secret.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no Application Default Credentials"
        first = _FILE_PATH.sub("<file>", first)  # a machine path is nobody's business in a report
        return scrub(f"no Google credentials: {first}", secrets)
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return f"{type(exc).__name__}: credentials could not be obtained or refreshed"
    return scrub(f"{type(exc).__name__}: {exc}", secrets)


class PagingLoopError(RuntimeError):
    """A list call's next page token came back again."""


# What is worth retrying: the server said "later" or failed, or the connection dropped or stalled.
# Every call here is a read, so repeating one is always safe.
_TRANSIENT: Final = (
    gexc.TooManyRequests,
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.GatewayTimeout,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # the connection dropped in the middle of the body
)
# Exceptions a call may raise that mean "not read", never "crash the audit".
READ_FAILURES: Final = (
    gexc.GoogleAPIError,
    json_format.ParseError,
    requests.RequestException,
    auth_exceptions.GoogleAuthError,
    ValueError,  # e.g. an out-of-range Duration / Timestamp in a response
    PagingLoopError,
)


def read_retry(deadline: float) -> gretry.Retry:
    return gretry.Retry(
        predicate=gretry.if_exception_type(*_TRANSIENT),
        initial=0.2,
        maximum=5.0,
        multiplier=2.0,
        timeout=deadline,
    )
