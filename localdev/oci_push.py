"""Push real OCI images to a registry over plain httpx: no Docker, no skopeo.

Why: tests and benchmarks need thousands of distinct manifests fast. Every image shares one
small layer + config per `layer_seed`; distinct digests come from a manifest annotation, and
other repositories cross-mount the shared blobs instead of uploading them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
SEED_ANNOTATION = "dev.registry-guard.seed"


@dataclass(frozen=True)
class _Blob:
    digest: str
    data: bytes
    media_type: str


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer_bytes(seed: str, size: int) -> bytes:
    # Deterministic pseudo-random bytes: the same seed always gives the same layer digest.
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:size])


def _blobs(layer_seed: str, size: int) -> tuple[_Blob, _Blob]:
    layer = _layer_bytes(layer_seed, size)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
    }, sort_keys=True).encode()
    return _Blob(_digest(config), config, OCI_CONFIG), _Blob(_digest(layer), layer, OCI_LAYER)


def _manifest(config: _Blob, layer: _Blob, content_seed: str) -> bytes:
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config.media_type, "digest": config.digest, "size": len(config.data)},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.data)}],
        "annotations": {SEED_ANNOTATION: content_seed},
    }, sort_keys=True).encode()


def _check(resp: httpx.Response, *expected: int) -> httpx.Response:
    if resp.status_code not in expected:
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: "
                           f"{resp.text[:300]}")
    return resp


def _ensure_blob(client: httpx.Client, base: str, repo: str, blob: _Blob, mount_from: str | None) -> None:
    if client.head(f"{base}/v2/{repo}/blobs/{blob.digest}").status_code == 200:
        return
    if mount_from and mount_from != repo:
        resp = client.post(f"{base}/v2/{repo}/blobs/uploads/",
                           params={"mount": blob.digest, "from": mount_from})
        if resp.status_code == 201:
            return
        _check(resp, 202)  # mount refused: the registry opened a normal upload instead
    else:
        resp = _check(client.post(f"{base}/v2/{repo}/blobs/uploads/"), 202)
    location = httpx.URL(base).join(resp.headers["Location"]).copy_add_param("digest", blob.digest)
    _check(client.put(location, content=blob.data, headers={"Content-Type": "application/octet-stream"}), 201)


def _put_manifest(client: httpx.Client, base: str, repo: str, reference: str, body: bytes,
                  media_type: str = OCI_MANIFEST) -> str:
    resp = _check(client.put(f"{base}/v2/{repo}/manifests/{reference}", content=body,
                             headers={"Content-Type": media_type}), 201)
    return resp.headers.get("Docker-Content-Digest") or _digest(body)


def push_image(base_url: str, repo: str, tags: Sequence[str], *, content_seed: str, size: int = 256,
               layer_seed: str | None = None, mount_from: str | None = None,
               client: httpx.Client | None = None) -> str:
    """Push one image (one manifest) under every tag in `tags` (none: pushed by digest, untagged).
    Returns the manifest digest; the same `content_seed` always gives the same digest."""
    base = base_url.rstrip("/")
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        config, layer = _blobs(layer_seed or content_seed, size)
        for blob in (config, layer):
            _ensure_blob(http, base, repo, blob, mount_from)
        body = _manifest(config, layer, content_seed)
        digest = _digest(body)
        for ref in (tags or [digest]):
            got = _put_manifest(http, base, repo, ref, body)
            if got != digest:
                raise RuntimeError(f"registry stored {repo}:{ref} as {got}, expected {digest}")
        return digest
    finally:
        if own:
            http.close()


def delete_manifest(base_url: str, repo: str, digest: str, *, client: httpx.Client | None = None) -> None:
    """Delete a manifest by digest (distribution 2.8 cannot delete by tag): every tag on it goes."""
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        _check(http.delete(f"{base_url.rstrip('/')}/v2/{repo}/manifests/{digest}"), 202)
    finally:
        if own:
            http.close()


def seed_model_registry(base_url: str, repos: int | Sequence[str] = 5, tags_per_repo: int = 10, *,
                        concurrency: int = 8, tags_per_image: int = 1, size: int = 256,
                        seed: str = "seed") -> dict[str, dict[str, str]]:
    """Seed `repos` (a count gives models/model-000…) with `tags_per_repo` tags v0000… each.
    `tags_per_image` consecutive tags share one digest. Returns {repo: {tag: digest}}."""
    names = [f"models/model-{i:03d}" for i in range(repos)] if isinstance(repos, int) else list(repos)
    if not names:
        return {}
    base = base_url.rstrip("/")
    tags = [f"v{i:04d}" for i in range(tags_per_repo)]
    groups = [tags[i:i + tags_per_image] for i in range(0, len(tags), max(1, tags_per_image))]
    result: dict[str, dict[str, str]] = {name: {} for name in names}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=60.0, limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:
        config, layer = _blobs(f"{seed}/layer", size)
        for blob in (config, layer):
            _ensure_blob(client, base, names[0], blob, None)
        # Blobs first (cross-mounted from the first repo), then every manifest in parallel.
        def link_blobs(name: str) -> None:
            for blob in (config, layer):
                _ensure_blob(client, base, name, blob, names[0])

        list(pool.map(link_blobs, names))

        def push(job: tuple[str, list[str]]) -> tuple[str, list[str], str]:
            name, group = job
            body = _manifest(config, layer, f"{seed}/{name}/{group[0]}")
            digest = ""
            for tag in group:
                digest = _put_manifest(client, base, name, tag, body)
            return name, group, digest

        for name, group, digest in pool.map(push, [(n, g) for n in names for g in groups]):
            for tag in group:
                result[name][tag] = digest
    return result


# -- supply-chain artifacts: the manifests cosign and OCI 1.1 clients push ------------------------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"


@dataclass(frozen=True)
class ArtifactLayer:
    media_type: str
    data: bytes
    annotations: dict[str, str]


def push_artifact(base_url: str, repo: str, reference: str | None, layers: Sequence[ArtifactLayer], *,
                  config: bytes | None = None, config_media_type: str = OCI_CONFIG, artifact_type: str | None = None,
                  subject: tuple[str, int] | None = None, annotations: dict[str, str] | None = None,
                  subject_media_type: str = OCI_MANIFEST, client: httpx.Client | None = None) -> tuple[str, int]:
    """Push an artifact manifest (a signature, attestation, SBOM, ...) with its blobs under `reference` (a tag;
    None pushes it by digest). `subject` is (digest, size) of the image it refers to, as an OCI 1.1 referrer
    names it. Returns (digest, size) of the manifest."""
    base = base_url.rstrip("/")
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        if config is None:
            # cosign's config: an image config whose rootfs lists the layers (it pushes artifacts as images).
            config = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z", "os": "", "config": {},
                                 "rootfs": {"type": "layers", "diff_ids": [_digest(layer.data) for layer in layers]}},
                                separators=(",", ":")).encode()
        blobs = [_Blob(_digest(config), config, config_media_type),
                 *(_Blob(_digest(layer.data), layer.data, layer.media_type) for layer in layers)]
        for blob in blobs:
            _ensure_blob(http, base, repo, blob, None)
        manifest: dict[str, object] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if artifact_type:
            manifest["artifactType"] = artifact_type
        manifest["config"] = {"mediaType": config_media_type, "size": len(config), "digest": _digest(config)}
        manifest["layers"] = [
            {"mediaType": layer.media_type, "size": len(layer.data), "digest": _digest(layer.data),
             **({"annotations": layer.annotations} if layer.annotations else {})}
            for layer in layers]
        if subject is not None:
            manifest["subject"] = {"mediaType": subject_media_type, "digest": subject[0], "size": subject[1]}
        if annotations:
            manifest["annotations"] = annotations
        body = json.dumps(manifest, separators=(",", ":")).encode()
        digest = _put_manifest(http, base, repo, reference or _digest(body), body)
        return digest, len(body)
    finally:
        if own:
            http.close()


def push_raw_image(base_url: str, repo: str, tag: str, manifest: bytes, media_type: str,
                   blobs: Sequence[bytes], *, client: httpx.Client | None = None) -> str:
    """Push a manifest exactly as given (bytes and media type) under `tag`, after the blobs it names: an image
    another tool built, whose digest must come out the same here. Returns its digest."""
    base = base_url.rstrip("/")
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        for data in blobs:
            _ensure_blob(http, base, repo, _Blob(_digest(data), data, "application/octet-stream"), None)
        return _put_manifest(http, base, repo, tag, manifest, media_type)
    finally:
        if own:
            http.close()


def manifest_size(base_url: str, repo: str, reference: str, *, client: httpx.Client | None = None) -> int:
    """The size of a manifest in bytes, as a referrer's `subject` descriptor states it."""
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        resp = _check(http.get(f"{base_url.rstrip('/')}/v2/{repo}/manifests/{reference}",
                               headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}), 200)
        return len(resp.content)
    finally:
        if own:
            http.close()


def add_to_referrers_tag(base_url: str, repo: str, subject_digest: str, descriptor: dict[str, object], *,
                         client: httpx.Client | None = None) -> str:
    """What an OCI 1.1 client does on a registry without the referrers API (distribution 2.8): add the
    referrer's descriptor to the index under the tag `sha256-<hex>` of its subject. Returns the index digest."""
    base = base_url.rstrip("/")
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    tag = subject_digest.replace(":", "-", 1)
    try:
        resp = http.get(f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_INDEX})
        manifests = resp.json().get("manifests", []) if resp.status_code == 200 else []
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*manifests, descriptor]}
        return _put_manifest(http, base, repo, tag, json.dumps(index, separators=(",", ":")).encode(), OCI_INDEX)
    finally:
        if own:
            http.close()
