"""Push released model images as the tools that build them store them: an image whose config carries OCI labels
(`docker build --label`, buildx `--annotation` for the manifest), a CNCF ModelPack artifact (`modctl`: artifactType
`application/vnd.cncf.model.manifest.v1+json`, its config and weight layers as model-spec describes), and a
KitOps ModelKit (`kit pack`: the Kitfile as the config, `application/vnd.kitops.modelkit.*` layers). Blobs are
small stand-ins for weights; the manifests and configs have the real shapes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx

from localdev.oci_push import OCI_MANIFEST, push_raw_image

OCI_CONFIG: Final = "application/vnd.oci.image.config.v1+json"
MODELPACK_MANIFEST: Final = "application/vnd.cncf.model.manifest.v1+json"
MODELPACK_CONFIG: Final = "application/vnd.cncf.model.config.v1+json"
MODELPACK_WEIGHT: Final = "application/vnd.cncf.model.weight.v1.tar"
MODELPACK_DOC: Final = "application/vnd.cncf.model.doc.v1.tar"
KITOPS_CONFIG: Final = "application/vnd.kitops.modelkit.config.v1+json"
KITOPS_MODEL: Final = "application/vnd.kitops.modelkit.model.v1.tar+gzip"
KITOPS_DOCS: Final = "application/vnd.kitops.modelkit.docs.v1.tar+gzip"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor(media_type: str, data: bytes, annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"mediaType": media_type, "digest": _digest(data), "size": len(data)}
    if annotations:
        out["annotations"] = dict(annotations)
    return out


def _push(base_url: str, repo: str, tag: str, config: bytes, config_type: str,
          layers: Sequence[tuple[str, bytes, Mapping[str, str] | None]], *, artifact_type: str | None = None,
          annotations: Mapping[str, str] | None = None, client: httpx.Client | None = None) -> str:
    manifest: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    manifest["config"] = _descriptor(config_type, config)
    manifest["layers"] = [_descriptor(media_type, data, notes) for media_type, data, notes in layers]
    if annotations:
        manifest["annotations"] = dict(annotations)
    body = json.dumps(manifest, separators=(",", ":")).encode()
    return push_raw_image(base_url, repo, tag, body, OCI_MANIFEST, [config, *(data for _, data, _ in layers)],
                          client=client)


def push_labelled_image(base_url: str, repo: str, tag: str, *, labels: Mapping[str, str],
                        annotations: Mapping[str, str] | None = None, seed: str = "",
                        client: httpx.Client | None = None) -> str:
    """An image whose config carries `labels` (as `docker build --label` writes them) and whose manifest
    carries `annotations`. Returns its digest."""
    layer = f"model weights {seed or tag}".encode()
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-11-20T10:00:00Z",
                         "config": {"Labels": dict(labels), "Env": ["PATH=/usr/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]}}).encode()
    return _push(base_url, repo, tag, config, OCI_CONFIG,
                 [("application/vnd.oci.image.layer.v1.tar", layer, None)], annotations=annotations, client=client)


def push_modelpack(base_url: str, repo: str, tag: str, *, descriptor: Mapping[str, Any],
                   config: Mapping[str, Any], weights: Sequence[bytes] = (b"weights-0", b"weights-1"),
                   client: httpx.Client | None = None) -> str:
    """A CNCF ModelPack model artifact: `descriptor` and `config` as its config's objects of those names."""
    layers: list[tuple[str, bytes, Mapping[str, str] | None]] = [
        (MODELPACK_WEIGHT, data, {"org.cncf.model.filepath": f"model-{i:05d}.safetensors"})
        for i, data in enumerate(weights)]
    layers.append((MODELPACK_DOC, b"# README", {"org.cncf.model.filepath": "README.md"}))
    body = json.dumps({"descriptor": dict(descriptor), "config": dict(config),
                       "modelfs": {"type": "layers", "diffIds": [_digest(d) for _, d, _ in layers]}}).encode()
    return _push(base_url, repo, tag, body, MODELPACK_CONFIG, layers, artifact_type=MODELPACK_MANIFEST,
                 client=client)


def push_modelkit(base_url: str, repo: str, tag: str, *, kitfile: Mapping[str, Any], model: bytes = b"model",
                  client: httpx.Client | None = None) -> str:
    """A KitOps ModelKit: the Kitfile (as JSON) is the config, the model and docs are gzipped tar layers."""
    layers: list[tuple[str, bytes, Mapping[str, str] | None]] = [(KITOPS_MODEL, model, None),
                                                                 (KITOPS_DOCS, b"docs", None)]
    return _push(base_url, repo, tag, json.dumps(dict(kitfile)).encode(), KITOPS_CONFIG, layers,
                 annotations={"ml.kitops.modelkit.cli-version": "1.7.0"}, client=client)


__all__ = ["push_labelled_image", "push_modelkit", "push_modelpack"]
