"""Compliance framework references, as named data the rule declarations point at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class FrameworkRef:
    name: str
    version: str
    reference: str
    title: str = ""

    def __str__(self) -> str:
        return f"{self.name} {self.version} {self.reference}".strip()


CIS_GCP: Final = "CIS Google Cloud Platform Foundation Benchmark"
CIS_GCP_VERSION: Final = "v3.0.0"
# FINOS Common Cloud Controls publishes the Container Registry catalog without a version number; its
# catalogs/devtools/container-registry files were last modified on this day.
CCC: Final = "FINOS Common Cloud Controls"
CCC_VERSION: Final = "Container Registry catalog of 2025-04-16"
SHA: Final = "Google Security Command Center, Security Health Analytics"
SHA_VERSION: Final = "finding categories"

CIS_BUCKET_NOT_PUBLIC: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "5.1", "Ensure That Cloud Storage Bucket Is Not Anonymously or Publicly Accessible"
)
CIS_BUCKET_UNIFORM_ACCESS: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "5.2", "Ensure That Cloud Storage Buckets Have Uniform Bucket-Level Access Enabled"
)
CIS_NO_SERVICE_ACCOUNT_ADMIN: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "1.5", "Ensure That Service Account Has No Admin Privileges"
)
CIS_NO_PROJECT_IMPERSONATION: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "1.6", "Ensure That IAM Users Are Not Assigned the Service Account User or "
    "Service Account Token Creator Roles at Project Level"
)
SHA_PUBLIC_BUCKET_ACL: Final = FrameworkRef(SHA, SHA_VERSION, "PUBLIC_BUCKET_ACL", "Cloud Storage buckets")
SHA_PRIMITIVE_ROLES_USED: Final = FrameworkRef(SHA, SHA_VERSION, "PRIMITIVE_ROLES_USED")
SHA_OVER_PRIVILEGED_SA_USER: Final = FrameworkRef(SHA, SHA_VERSION, "OVER_PRIVILEGED_SERVICE_ACCOUNT_USER")
SHA_NON_ORG_IAM_MEMBER: Final = FrameworkRef(SHA, SHA_VERSION, "NON_ORG_IAM_MEMBER")
CCC_ACCESS_MISCONFIGURED: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.Core.TH01", "Access control is misconfigured")
CCC_UNTRUSTED_ACCESS: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.Core.CN05", "Prevent access from untrusted entities")
CCC_IMMUTABLE_TAGS: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.CntrReg.CP09", "Immutable Tags (capability)")
CCC_LIFECYCLE_POLICIES: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.CntrReg.CP04", "Lifecycle Policies (capability)")
CCC_DATA_LOST: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.Core.TH06", "Data is lost or corrupted")
CCC_OLDER_VERSIONS_EXPLOITED: Final = FrameworkRef(
    CCC, CCC_VERSION, "CCC.Core.TH14", "Older Resource Versions Are Exploited"
)
CCC_VULNERABILITY_SCANNING: Final = FrameworkRef(
    CCC, CCC_VERSION, "CCC.CntrReg.CN01", "Implement Vulnerability Scanning for Artifacts"
)
