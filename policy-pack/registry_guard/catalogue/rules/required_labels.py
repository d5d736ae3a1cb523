"""Repositories carry the labels the team requires."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="required-labels",
    title="Repositories carry the required labels",
    severity="low",
    enforcement="advisory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.REPOSITORY,),
    settings=("requiredLabels",),
    tags=("artifact-registry", "tagging"),
    description="Repositories carry the configured labels (requiredLabels, default owner and model).",
    remediation=(
        "Add the missing labels to the repository (stack config `labels`, or gcloud artifacts repositories "
        "update --update-labels).",
    ),
    url="https://cloud.google.com/artifact-registry/docs/labels",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for repo in inputs.state.repositories:
        if is_unknown(repo.labels):
            yield rule.undetermined(str(repo.ref), "labels are not known yet")
            continue
        labels = dict(repo.labels)
        missing = [key for key in inputs.settings.required_labels if not labels.get(key)]
        if missing:
            yield rule.finding(str(repo.ref), f"{repo.ref.name} lacks label(s) {', '.join(missing)}",
                               {"missing": missing, "labels": labels})
