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
CCC: Final = "FINOS Common Cloud Controls, Container Registry"
CCC_VERSION: Final = "DEV"
SHA: Final = "Google Security Command Center, Security Health Analytics"
SHA_VERSION: Final = "2025"

CIS_BUCKET_NOT_PUBLIC: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "5.1", "Cloud Storage bucket is not anonymously or publicly accessible"
)
CIS_BUCKET_UNIFORM_ACCESS: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "5.2", "Cloud Storage buckets have uniform bucket-level access"
)
CIS_NO_SERVICE_ACCOUNT_ADMIN: Final = FrameworkRef(
    CIS_GCP, CIS_GCP_VERSION, "1.5", "Service account has no admin privileges"
)
SHA_PUBLIC_BUCKET_ACL: Final = FrameworkRef(SHA, SHA_VERSION, "PUBLIC_BUCKET_ACL")
SHA_PRIMITIVE_ROLES_USED: Final = FrameworkRef(SHA, SHA_VERSION, "PRIMITIVE_ROLES_USED")
SHA_NON_ORG_IAM_MEMBER: Final = FrameworkRef(SHA, SHA_VERSION, "NON_ORG_IAM_MEMBER")
SHA_BUCKET_CMEK_DISABLED: Final = FrameworkRef(SHA, SHA_VERSION, "BUCKET_CMEK_DISABLED")
CCC_IMMUTABLE_TAGS: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.CntrReg.F09", "Immutable tags")
CCC_OLDER_VERSIONS_USED: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.Core.TH14", "Older resource versions are used")
CCC_RETENTION: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.CntrReg.CN02", "Retention of artifacts")
CCC_VULNERABILITY_SCANNING: Final = FrameworkRef(CCC, CCC_VERSION, "CCC.CntrReg.CN01", "Vulnerability scanning")
