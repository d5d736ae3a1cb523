"""What a released image says about itself, from its manifest and config as a registry serves them: the OCI
image keys (`org.opencontainers.image.version`, `created`, `source`, `revision`, ...) among the config's labels
and the manifest's annotations, and the model it packages when it is a model artifact:

* CNCF ModelPack (github.com/modelpack/model-spec): artifactType `application/vnd.cncf.model.manifest.v1+json`,
  config `application/vnd.cncf.model.config.v1+json` (`descriptor`: name, version, licenses, ...; `config`:
  format, paramSize, ...), weights in `application/vnd.cncf.model.weight.v1.*` layers.
* KitOps ModelKits (github.com/kitops-ml/kitops): config `application/vnd.kitops.modelkit.config.v1+json`,
  the Kitfile as JSON (`package`: name, version, license; `model`: name, version, framework, format,
  license), the model in `application/vnd.kitops.modelkit.model.v1.tar[+gzip]` and `modelpart` layers.

Pure functions over parsed JSON: the OCI source fetches, this module reads. A config that is not what its
media type says is a `MetadataError`, which the source reports as not read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from registry_guard.catalogue.model import OCI_IMAGE_KEYS, ImageMetadata, ModelArtifact

MODELPACK_MANIFEST: Final = "application/vnd.cncf.model.manifest.v1+json"
MODELPACK_CONFIG: Final = "application/vnd.cncf.model.config.v1+json"
KITOPS_CONFIG: Final = "application/vnd.kitops.modelkit.config.v1+json"
IMAGE_CONFIGS: Final = frozenset({"application/vnd.oci.image.config.v1+json",
                                  "application/vnd.docker.container.image.v1+json"})
# The configs worth fetching: an image's (its labels) and a model artifact's (what model it packages).
READ_CONFIGS: Final = IMAGE_CONFIGS | {MODELPACK_CONFIG, KITOPS_CONFIG}
_MODELPACK_WEIGHT: Final = re.compile(r"^application/vnd\.cncf\.model\.weight\.v1\.(raw|tar)(\+\w+)?$")
_KITOPS_MODEL: Final = re.compile(r"^application/vnd\.kitops\.modelkit\.(model|modelpart)\.v1\.tar(\+\w+)?$")
_TEXT_LIMIT: Final = 200


class MetadataError(ValueError):
    """A config that is not what its media type says."""


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:_TEXT_LIMIT]
    return None


def _oci_keys(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {k: v[:_TEXT_LIMIT] for k, v in raw.items() if k in OCI_IMAGE_KEYS and isinstance(v, str) and v}


def config_to_read(manifest: Mapping[str, Any]) -> tuple[str, str, int | None] | None:
    """(media type, digest, size) of the manifest's config when it is one this module reads, else None (an
    index, or an artifact whose config says nothing about the image)."""
    config = manifest.get("config")
    if not isinstance(config, dict):
        return None
    media_type = str(config.get("mediaType", "")).split(";")[0].strip().lower()
    digest, size = config.get("digest"), config.get("size")
    if media_type not in READ_CONFIGS or not isinstance(digest, str):
        return None
    return media_type, digest, size if isinstance(size, int) and not isinstance(size, bool) else None


def _layer_bytes(manifest: Mapping[str, Any], pattern: re.Pattern[str]) -> int | None:
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return None
    sizes = [layer.get("size") for layer in layers if isinstance(layer, dict)
             and pattern.match(str(layer.get("mediaType", "")))]
    counted = [s for s in sizes if isinstance(s, int) and not isinstance(s, bool) and s >= 0]
    return sum(counted) if counted else None


def _modelpack(config: Mapping[str, Any], manifest: Mapping[str, Any]) -> ModelArtifact:
    descriptor, settings = config.get("descriptor"), config.get("config")
    if not isinstance(descriptor, dict) or (settings is not None and not isinstance(settings, dict)):
        raise MetadataError("a ModelPack config without its descriptor object")
    settings = settings or {}
    licenses = descriptor.get("licenses")
    license_text = ", ".join(v for v in licenses if isinstance(v, str))[:_TEXT_LIMIT] \
        if isinstance(licenses, list) else None
    return ModelArtifact("ModelPack", name=_text(descriptor.get("name")), version=_text(descriptor.get("version")),
                         format=_text(settings.get("format")), framework=None,
                         size_bytes=_layer_bytes(manifest, _MODELPACK_WEIGHT), license=license_text or None,
                         parameters=_text(settings.get("paramSize")))


def _kitops(config: Mapping[str, Any], manifest: Mapping[str, Any]) -> ModelArtifact:
    package, model = config.get("package") or {}, config.get("model") or {}
    if not isinstance(package, dict) or not isinstance(model, dict) or "manifestVersion" not in config:
        raise MetadataError("a KitOps config that is not a Kitfile")
    return ModelArtifact("KitOps ModelKit", name=_text(model.get("name")) or _text(package.get("name")),
                         version=_text(model.get("version")) or _text(package.get("version")),
                         format=_text(model.get("format")), framework=_text(model.get("framework")),
                         size_bytes=_layer_bytes(manifest, _KITOPS_MODEL),
                         license=_text(model.get("license")) or _text(package.get("license")))


def metadata_of(manifest: Mapping[str, Any], config_type: str | None = None,
                config: object = None) -> ImageMetadata:
    """The image's metadata from its manifest and, where one was read, its config (parsed JSON) of
    `config_type`. Raises MetadataError for a config that is not what its media type says."""
    annotations = _oci_keys(manifest.get("annotations"))
    if config_type is None:
        return ImageMetadata(annotations=annotations)
    if not isinstance(config, dict):
        raise MetadataError("the config is not a JSON object")
    if config_type == MODELPACK_CONFIG:
        return ImageMetadata(annotations=annotations, model=_modelpack(config, manifest))
    if config_type == KITOPS_CONFIG:
        return ImageMetadata(annotations=annotations, model=_kitops(config, manifest))
    inner = config.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise MetadataError("an image config whose `config` is not an object")
    return ImageMetadata(labels=_oci_keys((inner or {}).get("Labels")), annotations=annotations)


__all__ = ["KITOPS_CONFIG", "MODELPACK_CONFIG", "MODELPACK_MANIFEST", "MetadataError", "config_to_read",
           "metadata_of"]
