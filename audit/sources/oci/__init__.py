"""OCI Distribution source: lists repositories, tags and manifest digests of a registry, read-only.

Why an in-house client: no Python library covers async + correct Link pagination + Google's
tags/list `manifest` extension (digests and tags of every image in one listing) together. The
audit only sends GET and HEAD. Anything it could not read becomes a `ScanError` naming the
repository or tag, so the report can say `complete: false` instead of skipping it silently.

One concern per module: `tokens` (where credentials come from and where they may go), `headers` (pure
parsers of the headers the scan acts on), `limits` (how much a scan may read and how long it may take),
`wire` (aiohttp with the environment's proxies and CA bundles), `client` (retries, backoff, rate limit,
bearer auth and the scan's limits over the wire), `scanner` (the registry walk and its inventory) and
`source` (the registry as one of the scan's sources).
"""

from audit.sources.oci.headers import BearerChallenge, parse_link_next, parse_retry_after, parse_www_authenticate
from audit.sources.oci.limits import Limits
from audit.sources.oci.scanner import ACCEPT_MANIFESTS, OciInventory, scan_oci_registry, scan_oci_registry_async
from audit.sources.oci.source import OciRegistrySource
from audit.sources.oci.tokens import StaticToken, TokenProvider, google_adc_token_provider

__all__ = [
    "ACCEPT_MANIFESTS", "BearerChallenge", "Limits", "OciInventory", "OciRegistrySource", "StaticToken",
    "TokenProvider", "google_adc_token_provider", "parse_link_next", "parse_retry_after", "parse_www_authenticate",
    "scan_oci_registry", "scan_oci_registry_async",
]
