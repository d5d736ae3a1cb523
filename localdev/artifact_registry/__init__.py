"""A local, read-only stand-in for the Artifact Registry v1 REST API.

No Artifact Registry emulator exists, so tests and benchmarks drive the real
`google-cloud-artifact-registry` client (``transport="rest"``) against this stdlib server on
127.0.0.1. It answers the read calls the audit makes (ListRepositories, GetRepository,
ListDockerImages, ListAttachments, GetIamPolicy, ListLocations) as the real API does: the same
JSON shapes, paging and errors.
Every other method is refused with 405, and every request is recorded so a test can prove the
audit stayed read-only. To inject faults (429/500/503, malformed JSON, latency, resets), put
`localdev.fault_proxy.FaultProxy` in front of it and point the client at the proxy.

One concern per module:

* `images`: `FakeDockerImage`, and `SyntheticImages`, which computes images from their index
  so 100k images cost no memory;
* `attachments`: `FakeAttachment`, an OCI artifact that refers to an image (a signature, an SBOM, ...);
* `wire`: the API's JSON (resources, IAM policies, Google's error envelope, durations, enums);
* `estate`: `FakeEstate`, what is served (repositories, images, IAM policies, denied calls);
* `paging`: page sizes and signed page tokens;
* `server`: `ArtifactRegistryFake`, the HTTP server, routing and request recording.

Usage::

    estate = FakeEstate()
    repo = estate.add_repository("p", "us-central1", "models", immutable_tags=True)
    estate.add_images(repo, SyntheticImages(10_000))
    with ArtifactRegistryFake(estate) as fake:
        scan_artifact_registry("p", "us-central1", endpoint=fake.endpoint)
"""

from .attachments import FakeAttachment
from .estate import FakeEstate
from .images import FakeDockerImage, SyntheticImages, fake_digest
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .server import ArtifactRegistryFake, RecordedRequest, iter_read_only_violations
from .wire import JSON, binding, cleanup_policy, duration, error_body

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "JSON",
    "MAX_PAGE_SIZE",
    "ArtifactRegistryFake",
    "FakeAttachment",
    "FakeDockerImage",
    "FakeEstate",
    "RecordedRequest",
    "SyntheticImages",
    "binding",
    "cleanup_policy",
    "duration",
    "error_body",
    "fake_digest",
    "iter_read_only_violations",
]
