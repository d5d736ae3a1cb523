"""gcp-storage-emulator in-process on 127.0.0.1 (port 0), plus helpers that build buckets.

Why this emulator: it is the only local one that stores bucket IAM (v3 with conditions),
UBLA/PAP and bucket ACLs. Its quirk: `iamConfiguration` sent at create time is dropped, so the
helpers create first and patch afterwards.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]  # untyped; namespace shared with typed google.cloud packages
from registry_guard.catalogue.container_registry import container_registry_bucket_name

ENV = "STORAGE_EMULATOR_HOST"


class GcsEmulator:
    """`with GcsEmulator() as emu: emu.client().bucket(...)`; sets and restores STORAGE_EMULATOR_HOST."""

    def __init__(self, *, project: str = "test-project", set_env: bool = True) -> None:
        self.project = project
        self.set_env = set_env
        self.port = 0
        self._server: Any = None
        self._saved_env: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __repr__(self) -> str:
        return f"GcsEmulator(url={self.url!r}, project={self.project!r})"

    def start(self) -> GcsEmulator:
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        _honour_generation_preconditions()
        self._server = create_server("127.0.0.1", 0, in_memory=True)
        self._server.start()
        self.port = int(self._server._api._httpd.server_port)
        if self.set_env:
            self._saved_env = os.environ.get(ENV)
            os.environ[ENV] = self.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.set_env:
            if self._saved_env is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = self._saved_env

    def wipe(self) -> None:
        """Delete every bucket, so function-scoped tests start empty on a session-scoped emulator."""
        if self._server is not None:
            self._server.wipe()

    def client(self) -> storage.Client:
        # With STORAGE_EMULATOR_HOST set the client uses anonymous credentials on its own.
        if not self.set_env:
            raise RuntimeError("client() needs set_env=True (the client reads STORAGE_EMULATOR_HOST)")
        return storage.Client(project=self.project)

    def __enter__(self) -> GcsEmulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def gcr_bucket_name(project: str, region: str | None = None) -> str:
    """Container Registry's bucket for `project` (`region` us/eu/asia or None), as the catalogue names it."""
    return container_registry_bucket_name(project, region)


_PRECONDITION_FAILED = "At least one of the pre-conditions you specified did not hold."


def _honour_generation_preconditions() -> None:
    """Make uploads honour `ifGenerationMatch` as Cloud Storage does (the emulator ignores it): 412 with
    Google's error body when the object's generation differs, `0` meaning "only if it does not exist yet".
    The audit's history creates its snapshots that way, so a race between two scans must lose like it
    would in a real bucket, not silently overwrite."""
    from http import HTTPStatus

    from gcp_storage_emulator import server
    from gcp_storage_emulator.exceptions import NotFound
    from gcp_storage_emulator.handlers import objects

    original = objects.insert
    if getattr(server, "_preconditions_honoured", False):
        return

    def insert(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
        wanted = request.query.get("ifGenerationMatch")
        if wanted:
            name = (request.query.get("name") or [None])[0]
            if name is None and request.query.get("uploadType") == ["multipart"]:
                name = request.data["meta"].get("name")
            try:
                generation = str(storage.get_file_obj(request.params["bucket_name"], name)["generation"])
            except NotFound:
                generation = "0"
            if wanted[0] != generation:
                response.status = HTTPStatus.PRECONDITION_FAILED
                response.json({"error": {"code": 412, "message": _PRECONDITION_FAILED, "errors": [{
                    "message": _PRECONDITION_FAILED, "domain": "global", "reason": "conditionNotMet",
                    "locationType": "header", "location": "If-Match"}]}})
                return None
        return original(request, response, storage, *args, **kwargs)

    server.HANDLERS = tuple((regex, {method: insert if handler is original else handler
                                     for method, handler in handlers.items()})
                            for regex, handlers in server.HANDLERS)
    objects.insert = insert  # the route for uploads POSTed without the /upload prefix looks it up here
    server._preconditions_honoured = True


def create_bucket(client: storage.Client, name: str, *, uniform_access: bool | None = None,
                  public_access_prevention: str | None = None,
                  bindings: Sequence[Mapping[str, Any]] = (),
                  acl: Iterable[tuple[str, str]] = (),
                  default_object_acl: Iterable[tuple[str, str]] = ()) -> storage.Bucket:
    """Create `name`, then patch UBLA/PAP (create-time iamConfiguration is ignored by the emulator),
    set a v3 IAM policy with `bindings` ({"role", "members", optional "condition"}), and ACL
    entries as (entity, role) e.g. ("allUsers", "READER")."""
    bucket = client.create_bucket(name)
    if uniform_access is not None or public_access_prevention is not None:
        if uniform_access is not None:
            bucket.iam_configuration.uniform_bucket_level_access_enabled = uniform_access
        if public_access_prevention is not None:
            bucket.iam_configuration.public_access_prevention = public_access_prevention
        bucket.patch()
    if bindings:
        policy = bucket.get_iam_policy(requested_policy_version=3)
        policy.version = 3
        policy.bindings = [dict(b) for b in bindings]
        bucket.set_iam_policy(policy)
    for target, entries in ((bucket.acl, acl), (bucket.default_object_acl, default_object_acl)):
        entries = list(entries)
        if not entries:
            continue
        target.reload()
        for entity, role in entries:
            target.entity_from_dict({"entity": entity, "role": role})
        target.save()
    return bucket


def create_gcr_bucket(client: storage.Client, project: str, *, region: str | None = None,
                      **settings: Any) -> storage.Bucket:
    """The Container Registry bucket for `project` (optionally us/eu/asia), configured like create_bucket."""
    return create_bucket(client, gcr_bucket_name(project, region), **settings)
