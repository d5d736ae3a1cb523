"""Judge a normalized `RegistryState` with the catalogue's rules.

The one entry point both the policy pack and the audit call, so a rule means the same at deploy
time and at night.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .findings import Finding, Undetermined
from .model import RegistryState
from .settings import Settings

Check = Callable[[RegistryState, Settings], Iterable[Finding | Undetermined]]


@dataclass(frozen=True)
class Judgement:
    findings: tuple[Finding, ...] = ()
    undetermined: tuple[Undetermined, ...] = ()


@functools.cache  # the pack judges every resource once per rule: build this map once
def _checks() -> dict[str, Check]:
    from .checks import access, images, repository, storage

    return {
        "no-public-access": access.no_public_access,
        "no-broad-admin": access.no_broad_admin,
        "no-personal-writers": access.no_personal_writers,
        "iam-authoritative-conflict": access.iam_authoritative_conflict,
        "immutable-tags": repository.immutable_tags,
        "cleanup-keeps-versions": repository.cleanup_keeps_versions,
        "vulnerability-scanning": repository.vulnerability_scanning,
        "customer-managed-encryption": repository.customer_managed_encryption,
        "required-labels": repository.required_labels,
        "version-tag-required": images.version_tag_required,
        "legacy-gcr": storage.legacy_gcr,
        "bucket-hardening": storage.bucket_hardening,
    }


def judge(state: RegistryState, settings: Settings, rule_ids: Iterable[str] | None = None) -> Judgement:
    """Run the state-based rules (deploy and live) on `state`; `rule_ids` limits which."""
    checks = _checks()
    wanted = list(checks) if rule_ids is None else [r for r in rule_ids if r in checks]
    findings: list[Finding] = []
    undetermined: list[Undetermined] = []
    for rule_id in wanted:
        for result in checks[rule_id](state, settings):
            if isinstance(result, Finding):
                findings.append(result)
            else:
                undetermined.append(result)
    return Judgement(tuple(findings), tuple(undetermined))


def judge_history(
    previous: RegistryState,
    current: RegistryState,
    settings: Settings,
    unread_repositories: Iterable[str] = (),
) -> Judgement:
    """`version-tag-moved` and `version-deleted` against an earlier audit's inventory."""
    from .checks import history

    return Judgement(tuple(history.moved_and_deleted(previous, current, settings, frozenset(unread_repositories))))


def judge_drift(declared: RegistryState, live: RegistryState, settings: Settings) -> Judgement:
    """`iam-drift` and `config-drift`: the live estate against the stack's declared state."""
    from .checks import drift

    return Judgement((*drift.iam_drift(declared, live, settings), *drift.config_drift(declared, live, settings)))
