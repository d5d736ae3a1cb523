"""A version tag an earlier scan recorded is gone."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CCC_DATA_LOST
from ..history import is_unread, version_tags
from ..model import Subject
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="version-deleted",
    title="A released version disappeared",
    severity="high",
    stages=(Stage.HISTORY,),
    subjects=(Subject.IMAGE,),
    settings=("versionTagPattern",),
    description="A version tag (or its digest) that an earlier audit recorded is gone.",
    remediation=(
        "Check cleanup policies and audit logs for the deletion; restore the image from backup or rebuild "
        "it from its recorded digest's source.",
    ),
    frameworks=(CCC_DATA_LOST,),
    url="https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    assert inputs.previous is not None  # the judge runs HISTORY rules only with a previous scan
    before = version_tags(inputs.previous.images, inputs.settings)
    now = version_tags(inputs.state.images, inputs.settings)
    live_digests = {(i.repository.name, i.package, i.digest) for i in inputs.state.images}
    for (repository, package, tag), old_digest in sorted(before.items()):
        # What this scan could not read completely proves nothing by its absence.
        if (repository, package, tag) in now or is_unread(repository, package, inputs.unread):
            continue
        digest_kept = (repository, package, old_digest) in live_digests
        yield rule.finding(
            f"image:{repository}/{package}:{tag}",
            f"{package}:{tag} in {repository} is gone"
            + (f"; its digest {old_digest} is still there under other tags or untagged" if digest_kept
               else f", and so is its digest {old_digest}"),
            {"repository": repository, "package": package, "tag": tag, "recorded_digest": old_digest,
             "digest_still_present": digest_kept},
        )
