"""A version tag an earlier scan recorded now points at other content."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CCC_IMMUTABLE_TAGS
from ..history import version_tags
from ..model import Subject
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="version-tag-moved",
    title="A released version tag was re-pointed",
    severity="critical",
    stages=(Stage.HISTORY,),
    subjects=(Subject.IMAGE,),
    settings=("versionTagPattern",),
    description="A version tag now points to a different digest than an earlier audit recorded: a released model was "
    "silently replaced.",
    remediation=(
        "Find who pushed the new digest in the Data Access audit logs and restore the recorded digest.",
        "Turn immutable tags on so it cannot happen again.",
    ),
    frameworks=(CCC_IMMUTABLE_TAGS,),
    url="https://cloud.google.com/artifact-registry/docs/docker/manage-images#immutable_tags",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    assert inputs.previous is not None  # the judge runs HISTORY rules only with a previous scan
    before = version_tags(inputs.previous.images, inputs.settings)
    now = version_tags(inputs.state.images, inputs.settings)
    for (repository, package, tag), old_digest in sorted(before.items()):
        new_digest = now.get((repository, package, tag))
        if new_digest is not None and new_digest != old_digest:
            yield rule.finding(
                f"image:{repository}/{package}:{tag}",
                f"{package}:{tag} in {repository} now points to {new_digest}; an earlier audit recorded "
                f"{old_digest}",
                {"repository": repository, "package": package, "tag": tag,
                 "recorded_digest": old_digest, "current_digest": new_digest},
            )
