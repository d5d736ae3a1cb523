"""The rule catalogue: ids, severities, enforcement, framework mappings and remediation.

The ids are the product's public contract (`shared/reference/rule-catalogue.md`): the policy pack
registers a policy under each deploy-time id and the audit reports findings under the same ids.
Logic lives in `registry_guard.catalogue.checks`; this module only says what each rule means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .severity import SEVERITIES, Severity, severity_rank

Enforcement = Literal["advisory", "mandatory", "remediate", "disabled"]
Where = Literal["deploy", "live", "history", "declared"]

SEVERITY_ORDER: dict[str, int] = {s: severity_rank(s) for s in SEVERITIES}


@dataclass(frozen=True)
class FrameworkRef:
    name: str
    version: str
    reference: str
    title: str = ""

    def __str__(self) -> str:
        return f"{self.name} {self.version} {self.reference}".strip()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    enforcement: Enforcement  # default at deploy time; "disabled" for rules with no deploy-time check
    where: frozenset[Where]
    description: str
    remediation: tuple[str, ...]
    frameworks: tuple[FrameworkRef, ...] = ()
    url: str = ""

    @property
    def deploy_time(self) -> bool:
        return "deploy" in self.where


CIS_GCP = "CIS Google Cloud Platform Foundation Benchmark"
CIS_GCP_V = "v3.0.0"
CCC = "FINOS Common Cloud Controls, Container Registry"
CCC_V = "DEV"
SHA = "Google Security Command Center, Security Health Analytics"
SHA_V = "2025"

_AR = "https://cloud.google.com/artifact-registry/docs"

_RULES: tuple[Rule, ...] = (
    Rule(
        "no-public-access", "Registry is not public", "critical", "mandatory",
        frozenset({"deploy", "live"}),
        "No allUsers or allAuthenticatedUsers on a registry: Artifact Registry repository IAM, the Container "
        "Registry bucket's IAM or ACLs, or project IAM carrying a registry role. An IAM condition does not make "
        "a public grant safe.",
        (
            "Remove allUsers / allAuthenticatedUsers from the repository or bucket IAM policy and ACLs.",
            "Grant pull access to named groups or service accounts with roles/artifactregistry.reader "
            "(or roles/storage.objectViewer for a Container Registry bucket).",
            "Enforce public access prevention on buckets and the iam.allowedPolicyMemberDomains org policy.",
        ),
        (
            FrameworkRef(CIS_GCP, CIS_GCP_V, "5.1", "Cloud Storage bucket is not anonymously or publicly accessible"),
            FrameworkRef(SHA, SHA_V, "PUBLIC_BUCKET_ACL"),
        ),
        f"{_AR}/access-control",
    ),
    Rule(
        "no-broad-admin", "Admin roles only to allow-listed principals", "high", "mandatory",
        frozenset({"deploy", "live"}),
        "Admin-class roles (owner, editor, storage.admin, artifactregistry.admin/repoAdmin, "
        "storage.legacyBucketOwner, configured custom roles) go only to principals on allowedAdmins, "
        "never to domain:, public or personal (user:) principals.",
        (
            "Replace the admin grant with the narrowest role the principal needs: roles/artifactregistry.reader "
            "to pull, roles/artifactregistry.writer to push (roles/storage.objectViewer / "
            "roles/storage.legacyBucketWriter on a Container Registry bucket).",
            "If an admin is really needed, grant it to a group or service account and add it to allowedAdmins.",
        ),
        (
            FrameworkRef(CIS_GCP, CIS_GCP_V, "1.5", "Service account has no admin privileges"),
            FrameworkRef(SHA, SHA_V, "PRIMITIVE_ROLES_USED"),
        ),
        f"{_AR}/access-control#roles",
    ),
    Rule(
        "no-personal-writers", "Writers are groups or service accounts", "medium", "advisory",
        frozenset({"deploy", "live"}),
        "Write or admin roles on a registry go to groups or service accounts, not to user: principals; "
        "consumer accounts (@gmail.com) get no role at all.",
        (
            "Grant push access to the CI service account or a group instead of a person.",
            "Remove roles held by consumer (@gmail.com) accounts.",
        ),
        (FrameworkRef(SHA, SHA_V, "NON_ORG_IAM_MEMBER"),),
        f"{_AR}/access-control",
    ),
    Rule(
        "immutable-tags", "Version tags are immutable", "high", "mandatory",
        frozenset({"deploy", "live", "declared"}),
        "Docker repositories set dockerConfig.immutableTags = true so a released version tag can never be "
        "re-pointed to other content.",
        (
            "Set docker_config.immutable_tags=True on the repository (the policy pack's remediate level does this).",
            "Live: gcloud artifacts repositories update REPO --location=LOC --immutable-tags",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.CntrReg.F09", "Immutable tags"),),
        f"{_AR}/docker/manage-images#immutable_tags",
    ),
    Rule(
        "version-tag-required", "Every image carries a version tag", "high", "mandatory",
        frozenset({"deploy", "live"}),
        "Every image has at least one tag that matches the version pattern (versionTagPattern, default "
        "semantic versioning with optional v). An image tagged only latest, dev or nothing violates it.",
        (
            "Tag the image with its model version (e.g. v1.4.0) before pushing; keep latest only as an extra tag.",
            "Delete or re-tag images that carry no version.",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.Core.TH14", "Older resource versions are used"),),
        f"{_AR}/docker/names",
    ),
    Rule(
        "cleanup-keeps-versions", "Cleanup never deletes a released version", "high", "mandatory",
        frozenset({"deploy", "live", "declared"}),
        "Any DELETE cleanup policy that could match tagged images is outweighed by a KEEP policy for version "
        "tags (tag prefixes or most-recent-versions). Live, the policies are simulated on the inventory and "
        "every version-tagged image they would delete is named.",
        (
            "Add a KEEP policy with tagState TAGGED and the version tag prefixes (e.g. v), or limit DELETE "
            "policies to tagState UNTAGGED.",
            "Keep cleanupPolicyDryRun on while changing policies and read the dry-run logs.",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.CntrReg.CN02", "Retention of artifacts"),),
        f"{_AR}/repositories/cleanup-policy",
    ),
    Rule(
        "vulnerability-scanning", "Vulnerability scanning is on", "medium", "advisory",
        frozenset({"deploy", "live", "declared"}),
        "Vulnerability scanning is not disabled on a repository (vulnerabilityScanningConfig.enablementConfig "
        "is not DISABLED).",
        (
            "Remove enablementConfig DISABLED from the repository's vulnerability scanning config.",
            "Enable the Container Scanning API (containerscanning.googleapis.com) in the project.",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.CntrReg.CN01", "Vulnerability scanning"),),
        "https://cloud.google.com/artifact-analysis/docs/container-scanning-overview",
    ),
    Rule(
        "customer-managed-encryption", "Repositories use a customer-managed key", "medium", "advisory",
        frozenset({"deploy", "live"}),
        "Repositories are encrypted with a customer-managed Cloud KMS key (kmsKeyName). The key can only be "
        "set when a repository is created.",
        (
            "Create a Cloud KMS key in the repository's location, grant the Artifact Registry service agent "
            "roles/cloudkms.cryptoKeyEncrypterDecrypter, and create the repository with kms_key_name.",
            "Existing repositories must be recreated and their images copied over.",
        ),
        (FrameworkRef(SHA, SHA_V, "BUCKET_CMEK_DISABLED"),),
        f"{_AR}/cmek",
    ),
    Rule(
        "legacy-gcr", "No Container Registry", "medium", "advisory",
        frozenset({"deploy", "live"}),
        "Container Registry (gcp.container.Registry, artifacts.<project>.appspot.com buckets) is shut down by "
        "Google: writes stopped on 2025-03-18.",
        (
            "Create Artifact Registry gcr.io repositories (gcloud artifacts docker upgrade migrate "
            "--projects=PROJECT) or a pkg.dev Docker repository, copy the images, and repoint clients.",
            "Move storage IAM grants on the artifacts bucket to Artifact Registry repository IAM.",
        ),
        (),
        "https://cloud.google.com/artifact-registry/docs/transition/transition-from-gcr",
    ),
    Rule(
        "bucket-hardening", "Buckets use uniform access and block public access", "high", "mandatory",
        frozenset({"deploy", "live", "declared"}),
        "Buckets in the stack (the Container Registry bucket, the audit's report bucket) have uniform "
        "bucket-level access on and public access prevention enforced.",
        (
            "Set uniform_bucket_level_access=True and public_access_prevention='enforced' (the policy pack's "
            "remediate level does this).",
            "Live: gcloud storage buckets update gs://BUCKET --uniform-bucket-level-access "
            "--public-access-prevention",
        ),
        (
            FrameworkRef(CIS_GCP, CIS_GCP_V, "5.2", "Cloud Storage buckets have uniform bucket-level access"),
            FrameworkRef(CIS_GCP, CIS_GCP_V, "5.1", "Cloud Storage bucket is not anonymously or publicly accessible"),
        ),
        "https://cloud.google.com/storage/docs/public-access-prevention",
    ),
    Rule(
        "required-labels", "Repositories carry the required labels", "low", "advisory",
        frozenset({"deploy", "live"}),
        "Repositories carry the configured labels (requiredLabels, default owner and model).",
        ("Add the missing labels to the repository (stack config `labels`, or gcloud artifacts repositories "
         "update --update-labels).",),
        (),
        f"{_AR}/labels",
    ),
    Rule(
        "iam-authoritative-conflict", "IAM resources do not fight", "high", "mandatory",
        frozenset({"deploy"}),
        "An authoritative IAM policy resource and IAM binding/member resources target the same repository or "
        "bucket, or two bindings set the same role on the same target: they overwrite each other and one "
        "silently wins.",
        (
            "Use either one authoritative IamPolicy per target or IamBinding/IamMember resources, never both.",
            "Merge bindings for the same role on the same target into one IamBinding.",
        ),
        (),
        "https://www.pulumi.com/registry/packages/gcp/api-docs/artifactregistry/repositoryiampolicy/",
    ),
    Rule(
        "version-tag-moved", "A released version tag was re-pointed", "critical", "disabled",
        frozenset({"history"}),
        "A version tag now points to a different digest than an earlier audit recorded: a released model was "
        "silently replaced.",
        (
            "Find who pushed the new digest in the Data Access audit logs and restore the recorded digest.",
            "Turn immutable tags on so it cannot happen again.",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.CntrReg.F09", "Immutable tags"),),
        f"{_AR}/docker/manage-images#immutable_tags",
    ),
    Rule(
        "version-deleted", "A released version disappeared", "high", "disabled",
        frozenset({"history"}),
        "A version tag (or its digest) that an earlier audit recorded is gone.",
        (
            "Check cleanup policies and audit logs for the deletion; restore the image from backup or rebuild "
            "it from its recorded digest's source.",
        ),
        (FrameworkRef(CCC, CCC_V, "CCC.CntrReg.CN02", "Retention of artifacts"),),
        f"{_AR}/repositories/cleanup-policy",
    ),
    Rule(
        "iam-drift", "Live IAM matches the stack", "high", "disabled",
        frozenset({"declared"}),
        "Live IAM members and roles differ from what the stack declares; each added or removed member is named.",
        (
            "Run `pulumi preview --refresh` to see the drift, then `pulumi up` to restore the declared IAM, or "
            "declare the new member in the stack if it is intended.",
        ),
        (),
        "https://www.pulumi.com/docs/iac/operations/stack-management/drift/",
    ),
    Rule(
        "config-drift", "Live settings match the stack", "medium", "disabled",
        frozenset({"declared"}),
        "Live repository or bucket settings (immutable tags, cleanup policies, scanning, encryption, labels, "
        "uniform access, public access prevention) differ from what the stack declares.",
        ("Run `pulumi preview --refresh` and `pulumi up` to restore the declared settings.",),
        (),
        "https://www.pulumi.com/docs/iac/operations/stack-management/drift/",
    ),
)

# Ordered by id: the order of the pack's policies, their diagnostics and every report's rule list.
RULES: dict[str, Rule] = {rule.id: rule for rule in sorted(_RULES, key=lambda r: r.id)}
DEPLOY_RULES: tuple[Rule, ...] = tuple(r for r in RULES.values() if r.deploy_time)


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
