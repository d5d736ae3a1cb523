"""Cleanup policies never delete a released version."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from ..cleanup import unprotected_deletes, would_delete
from ..findings import Finding, Undetermined
from ..frameworks import CCC_RETENTION
from ..model import Image, Subject, is_unknown
from ..repositories import docker_repositories
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="cleanup-keeps-versions",
    title="Cleanup never deletes a released version",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.REPOSITORY,),
    settings=("versionTagPattern",),
    tags=("artifact-registry", "retention"),
    description="Any DELETE cleanup policy that could match tagged images is outweighed by a KEEP policy for version "
    "tags (tag prefixes or most-recent-versions). Live, the policies are simulated on the inventory and "
    "every version-tagged image they would delete is named.",
    remediation=(
        "Add a KEEP policy with tagState TAGGED and the version tag prefixes (e.g. v), or limit DELETE "
        "policies to tagState UNTAGGED.",
        "Keep cleanupPolicyDryRun on while changing policies and read the dry-run logs.",
    ),
    frameworks=(CCC_RETENTION,),
    url="https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    state, settings = inputs.state, inputs.settings
    images_by_repo: dict[str, list[Image]] = defaultdict(list)
    for image in state.images:
        images_by_repo[image.repository.name].append(image)
    now = state.observed_at or datetime.now(UTC)
    for repo in docker_repositories(state, rule):
        if isinstance(repo, Undetermined):
            yield repo
            continue
        if is_unknown(repo.cleanup_policies):
            yield rule.undetermined(str(repo.ref), "cleanup policies are not known yet")
            continue
        policies = repo.cleanup_policies
        dry_run = "" if repo.cleanup_dry_run is not True else \
            " (dry run is on: nothing is deleted until it is turned off)"
        for policy in unprotected_deletes(policies, settings):
            yield rule.finding(
                str(repo.ref),
                f"cleanup policy {policy.id!r} on {repo.ref.name} can delete version-tagged images and no KEEP "
                f"policy protects every version tag{dry_run}",
                {"policy": policy.id, "dryRun": repo.cleanup_dry_run is True},
            )
        # Live: name every version-tagged image the policies would delete today.
        doomed = [i for i in would_delete(policies, images_by_repo.get(repo.ref.name, ()), now)
                  if any(settings.is_version_tag(t) for t in i.tags)]
        for image in doomed:
            versions = [t for t in image.tags if settings.is_version_tag(t)]
            yield rule.finding(
                str(image.ref),
                f"the cleanup policies of {repo.ref.name} would delete {image.package} "
                f"{', '.join(versions)} ({image.digest}){dry_run}",
                {"repository": repo.ref.name, "package": image.package, "digest": image.digest,
                 "versions": versions, "dryRun": repo.cleanup_dry_run is True},
            )
