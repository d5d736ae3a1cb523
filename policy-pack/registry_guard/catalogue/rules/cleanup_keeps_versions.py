"""Cleanup policies never delete a released version."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from ..cleanup import unprotected_deletes, would_delete
from ..findings import Finding, Undetermined
from ..frameworks import CCC_DATA_LOST, CCC_LIFECYCLE_POLICIES
from ..model import Image, Subject, is_unknown
from ..repositories import NOT_PUSHED_TO
from ..rule import Inputs, Rule, Stage, declare
from ..version_patterns import PatternNotAnalysable


@declare(
    id="cleanup-keeps-versions",
    title="Cleanup never deletes a released version",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.REPOSITORY,),
    settings=("versionTagPattern",),
    tags=("artifact-registry", "retention"),
    description="In a standard repository of any format, no DELETE cleanup policy can reach a released version "
    "unless a KEEP policy keeps it: a version is kept when any KEEP policy matches it, and a released version is "
    "a Docker image with a tag the version pattern (versionTagPattern) admits, or, in other formats, a version "
    "whose name it admits. Whether the KEEP policies' tag or version-name prefixes cover every such version is "
    "decided from the pattern itself; keeping the most recent N versions is not keeping every version. A "
    "policy set with dry run on deletes nothing: reported, but it does not block a deployment. Remote and "
    "virtual repositories hold no released versions of their own (cleanup there evicts cached upstream copies) "
    "and pass. Live, the policies of Docker repositories are also simulated on the inventory and every "
    "version-tagged image they would delete is named.",
    remediation=(
        "Add a KEEP policy with tagState TAGGED and tag prefixes that start every version tag (e.g. v and the "
        "digits 0-9 for semantic versions), or limit DELETE policies to tagState UNTAGGED (Docker).",
        "For Maven, Python, npm and generic repositories, add a KEEP policy with tagState ANY and version name "
        "prefixes that start every released version.",
        "Keep cleanupPolicyDryRun on while changing policies and read the dry-run logs.",
    ),
    frameworks=(CCC_LIFECYCLE_POLICIES, CCC_DATA_LOST),
    url="https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    state, settings = inputs.state, inputs.settings
    images_by_repo: dict[str, list[Image]] = defaultdict(list)
    for image in state.images:
        images_by_repo[image.repository.name].append(image)
    now = state.observed_at or datetime.now(UTC)
    for repo in state.repositories:
        ref = str(repo.ref)
        if is_unknown(repo.format):
            yield rule.undetermined(ref, "the repository format is not known yet")
            continue
        if is_unknown(repo.mode):
            yield rule.undetermined(ref, "the repository mode is not known yet")
            continue
        if repo.mode.upper() in NOT_PUSHED_TO:
            continue
        if is_unknown(repo.cleanup_policies):
            yield rule.undetermined(ref, "cleanup policies are not known yet")
            continue
        policies = repo.cleanup_policies
        docker = repo.format.upper() == "DOCKER"
        dry_run = repo.cleanup_dry_run is True
        note = " (dry run is on: nothing is deleted until it is turned off)" if dry_run else ""
        try:
            unprotected = unprotected_deletes(policies, settings, repo.format)
        except PatternNotAnalysable as exc:
            yield rule.undetermined(ref, f"versionTagPattern cannot be compared with cleanup prefixes: {exc}")
            continue
        for gap in unprotected:
            released = "version-tagged images" if docker else "released versions"
            yield rule.finding(
                ref,
                f"cleanup policy {gap.policy.id!r} on {repo.ref.name} can delete {released} and no KEEP policy "
                f"keeps them all (e.g. {gap.example!r}){note}",
                {"policy": gap.policy.id, "dryRun": dry_run, "uncoveredVersion": gap.example},
                blocks=not dry_run,
            )
        if not docker:
            continue  # the live inventory holds Docker images only
        # Live: name every version-tagged image the policies would delete today.
        doomed = [i for i in would_delete(policies, images_by_repo.get(repo.ref.name, ()), now)
                  if any(settings.is_version_tag(t) for t in i.tags)]
        for image in doomed:
            versions = [t for t in image.tags if settings.is_version_tag(t)]
            yield rule.finding(
                str(image.ref),
                f"the cleanup policies of {repo.ref.name} would delete {image.package} "
                f"{', '.join(versions)} ({image.digest}){note}",
                {"repository": repo.ref.name, "package": image.package, "digest": image.digest,
                 "versions": versions, "dryRun": dry_run},
                blocks=not dry_run,
            )
