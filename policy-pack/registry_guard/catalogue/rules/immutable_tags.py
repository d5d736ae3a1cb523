"""Docker repositories keep version tags immutable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...pulumi_properties.types import AR_REPOSITORY
from ..findings import Finding, Undetermined
from ..frameworks import CCC_IMMUTABLE_TAGS
from ..model import Subject, is_unknown
from ..repositories import NOT_PUSHED_TO, docker_repositories
from ..rule import Inputs, Rule, Stage, declare


def set_immutable_tags(resource_type: str, props: dict[str, Any]) -> dict[str, Any] | None:
    """Set dockerConfig.immutableTags on a standard Docker repository that lacks it. Nothing else is certain:
    dockerConfig is valid only there, so an unknown format or mode is left to the check."""
    if resource_type != AR_REPOSITORY:
        return None
    # Here, not at the top: only the pack remediates, and the audit need not load pulumi_policy.
    from ...pulumi_properties.reader import SENTINELS

    fmt = props.get("format")
    if not isinstance(fmt, str) or fmt in SENTINELS or fmt.upper() != "DOCKER":
        return None
    mode = props.get("mode", "STANDARD_REPOSITORY")
    if not isinstance(mode, str) or mode in SENTINELS or mode.upper() != "STANDARD_REPOSITORY":
        return None  # remote and virtual repositories take no dockerConfig: nothing is pushed to them
    docker = props.get("dockerConfig")
    if not isinstance(docker, dict):
        docker = {}
    if docker.get("immutableTags") is True:
        return None
    props["dockerConfig"] = {**docker, "immutableTags": True}
    return props


@declare(
    id="immutable-tags",
    title="Version tags are immutable",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.REPOSITORY,),
    tags=("artifact-registry", "supply-chain"),
    description="Standard Docker repositories set dockerConfig.immutableTags = true so a released version tag can "
    "never be re-pointed to other content. Remote and virtual repositories are not pushed to and pass.",
    remediation=(
        "Set docker_config.immutable_tags=True on the repository (the policy pack's remediate level does this).",
        "Live: gcloud artifacts repositories update REPO --project=PROJECT --location=LOC --immutable-tags",
    ),
    frameworks=(CCC_IMMUTABLE_TAGS,),
    url="https://cloud.google.com/artifact-registry/docs/docker/manage-images#immutable_tags",
    fix=set_immutable_tags,
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for repo in docker_repositories(inputs.state, rule):
        if isinstance(repo, Undetermined):
            yield repo
        elif is_unknown(repo.mode):
            yield rule.undetermined(str(repo.ref), "the repository mode is not known yet")
        elif repo.mode.upper() in NOT_PUSHED_TO:
            continue  # remote and virtual repositories serve tags they do not own
        elif is_unknown(repo.immutable_tags):
            yield rule.undetermined(str(repo.ref), "dockerConfig.immutableTags is not known yet")
        elif repo.immutable_tags is not True:
            yield rule.finding(
                str(repo.ref),
                f"{repo.ref.name} lets a version tag be moved to other content (immutable tags are off)",
                {"immutableTags": repo.immutable_tags},
            )
