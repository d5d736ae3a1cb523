"""Local stand-ins for the Google Cloud APIs effective access reads: Resource Manager v3 (the hierarchy and
its IAM policies), IAM v1 (roles, service accounts' IAM policies) and Cloud Asset Inventory v1 (resource and
IAM policy search, Policy Analyzer).

No emulator exists for any of them, so tests, the demo and the benchmark drive the real clients against these
stdlib servers on 127.0.0.1, one server per API as each has its own host, all serving one `IamEstate`. They
answer as the API references say (paths, paging, field shapes, 403 vs 404), refuse every call that is not a
read with 405, and record every request. Put `localdev.fault_proxy.FaultProxy` in front of one to inject faults.

One concern per module: `estate` (what is served), `server` (HTTP, routing, recording), `resource_manager`,
`iam` and `asset` (each API's calls).

Usage::

    estate = IamEstate()
    org = estate.add_organization("1")
    project = estate.add_project("p", estate.add_folder("2", org))
    estate.set_policy(org, [binding("roles/artifactregistry.admin", ["group:admins@example.com"])])
    with GoogleIamFakes(estate) as fakes:
        ... --resource-manager-endpoint fakes.resource_manager.endpoint --iam-endpoint fakes.iam.endpoint ...
"""

from __future__ import annotations

from types import TracebackType

from .asset import AssetFake
from .estate import CRM, IamEstate
from .iam import IamFake
from .resource_manager import ResourceManagerFake
from .server import GoogleApiFake, Request, read_only_violations


class GoogleIamFakes:
    """The three stand-ins on one estate, started and stopped together."""

    def __init__(self, estate: IamEstate | None = None) -> None:
        self.estate = estate if estate is not None else IamEstate()
        self.resource_manager = ResourceManagerFake(self.estate)
        self.iam = IamFake(self.estate)
        self.asset = AssetFake(self.estate)

    @property
    def all(self) -> tuple[GoogleApiFake, ...]:
        return (self.resource_manager, self.iam, self.asset)

    def start(self) -> GoogleIamFakes:
        for fake in self.all:
            fake.start()
        return self

    def stop(self) -> None:
        for fake in self.all:
            fake.stop()

    def __enter__(self) -> GoogleIamFakes:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["CRM", "AssetFake", "GoogleApiFake", "GoogleIamFakes", "IamEstate", "IamFake", "Request",
           "ResourceManagerFake", "read_only_violations"]
