"""Repositories are encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="customer-managed-encryption",
    title="Repositories use a customer-managed key",
    severity="medium",
    enforcement="advisory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.REPOSITORY,),
    tags=("artifact-registry", "encryption"),
    description="Repositories are encrypted with a customer-managed Cloud KMS key (kmsKeyName). The key can only be "
    "set when a repository is created.",
    remediation=(
        "Create a Cloud KMS key in the repository's location, grant the Artifact Registry service agent "
        "roles/cloudkms.cryptoKeyEncrypterDecrypter, and create the repository with kms_key_name.",
        "Existing repositories must be recreated and their images copied over.",
    ),
    url="https://cloud.google.com/artifact-registry/docs/cmek",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for repo in inputs.state.repositories:
        if is_unknown(repo.kms_key_name):
            yield rule.undetermined(str(repo.ref), "kmsKeyName is not known yet")
        elif not repo.kms_key_name:
            yield rule.finding(
                str(repo.ref),
                f"{repo.ref.name} is encrypted with a Google-managed key, not a customer-managed one",
                {"kmsKeyName": None},
            )
