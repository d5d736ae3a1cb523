"""Effective access as Google Cloud resolves it: grants above the registry reach it, roles are their permissions,
impersonation along chains of service accounts, conditions kept, and whatever could not be read leaves what
depends on it unjudged."""

from __future__ import annotations

from itertools import pairwise

from registry_guard.catalogue.access_model import AccessContext, RoleDefinition
from registry_guard.catalogue.capabilities import predefined_roles
from registry_guard.catalogue.effective_access import compute, effective_access
from registry_guard.catalogue.model import (
    UNKNOWN,
    Bucket,
    Condition,
    Grant,
    RegistryState,
    Repository,
    ResourceRef,
)

REPO = ResourceRef("repository", "projects/p/locations/l/repositories/models")
BUCKET = ResourceRef("bucket", "artifacts.p.appspot.com")
PROJECT = ResourceRef("project", "p")
FOLDER = ResourceRef("folder", "folders/20")
ORG = ResourceRef("organization", "organizations/1")
CI = "ci@p.iam.gserviceaccount.com"
PARENTS = {PROJECT: FOLDER, FOLDER: ORG, ORG: None}


def grant(target: ResourceRef, role: str, member: str, condition: Condition | None = None) -> Grant:
    return Grant(target, role, member, "iam-policy", condition, source="test")


def roles(*names: str) -> dict[str, RoleDefinition]:
    snapshot = predefined_roles().roles
    return {n: RoleDefinition(n, snapshot[n].permissions, "test") for n in names}


def state(*grants: Grant, context: AccessContext) -> RegistryState:
    return RegistryState(repositories=(Repository(REPO),),
                         buckets=(Bucket(BUCKET, is_container_registry=True),), grants=grants, access=context)


def table(result: object) -> set[tuple[str, str, str]]:
    """(resource kind, member, capability) of every access."""
    return {(a.resource.kind, a.member, a.capability) for a in result.accesses}  # type: ignore[attr-defined]


def test_inherited_grants_reach_every_repository_and_bucket_below() -> None:
    context = AccessContext(parents=PARENTS, roles=roles("roles/editor", "roles/artifactregistry.admin",
                                                         "roles/storage.objectViewer"))
    result = compute(state(grant(FOLDER, "roles/editor", "domain:example.com"),
                           grant(ORG, "roles/artifactregistry.admin", "group:admins@example.com"),
                           grant(PROJECT, "roles/storage.objectViewer", "allUsers"), context=context), context)
    found = table(result)
    assert {("repository", "domain:example.com", c) for c in ("pull", "push", "move-tags", "delete-versions")} <= found
    assert ("repository", "domain:example.com", "change-iam") not in found  # editor cannot set IAM
    assert ("repository", "group:admins@example.com", "change-iam") in found
    assert ("bucket", "allUsers", "pull") in found and ("repository", "allUsers", "pull") not in found
    editor = next(a for a in result.accesses if a.member == "domain:example.com" and a.capability == "push")
    assert [(p.target, p.role, p.inherited) for p in editor.paths] == [(FOLDER, "roles/editor", True)]
    assert result.not_judged == ()


def test_setting_iam_above_is_changing_iam_here() -> None:
    context = AccessContext(parents=PARENTS, roles=roles("roles/resourcemanager.projectIamAdmin"))
    result = compute(state(grant(PROJECT, "roles/resourcemanager.projectIamAdmin", "user:bob@example.com"),
                           context=context), context)
    assert ("repository", "user:bob@example.com", "change-iam") in table(result)


def test_one_hop_of_impersonation_with_both_grants_on_the_path() -> None:
    expiry = Condition("request.time < timestamp('2027-01-01T00:00:00Z')", "until 2027")
    context = AccessContext(parents=PARENTS, accounts_read=frozenset({CI}),
                            roles=roles("roles/artifactregistry.writer", "roles/iam.serviceAccountTokenCreator",
                                        "roles/iam.serviceAccountUser"))
    result = compute(state(
        grant(REPO, "roles/artifactregistry.writer", f"serviceAccount:{CI}"),
        grant(ResourceRef("service-account", CI), "roles/iam.serviceAccountTokenCreator", "group:devs@example.com",
              expiry),
        grant(PROJECT, "roles/iam.serviceAccountUser", "user:carol@example.com"),
        context=context), context)
    assert result.not_judged == ()
    push = {a.member: a for a in result.accesses if a.capability == "push"}
    assert set(push) == {f"serviceAccount:{CI}", "group:devs@example.com", "user:carol@example.com"}
    devs = push["group:devs@example.com"].paths[0]
    assert devs.through is not None and devs.through.account == CI and devs.through.condition == expiry
    assert devs.conditional and devs.target == REPO
    assert "acting as ci@p.iam.gserviceaccount.com (roles/iam.serviceAccountTokenCreator on service account" \
        in devs.describe()
    assert push["user:carol@example.com"].paths[0].through.target == PROJECT  # type: ignore[union-attr]


def account(name: str) -> str:
    return f"{name}@p.iam.gserviceaccount.com"


def chain_state(*names: str, extra: tuple[Grant, ...] = ()) -> tuple[RegistryState, AccessContext]:
    """names[0] writes to the repository; each next account may act as the one before; carol as the last."""
    accounts = [account(n) for n in names]
    grants = [grant(REPO, "roles/artifactregistry.writer", f"serviceAccount:{accounts[0]}")]
    for acted, actor in pairwise(accounts):
        grants.append(grant(ResourceRef("service-account", acted), "roles/iam.serviceAccountTokenCreator",
                            f"serviceAccount:{actor}"))
    grants.append(grant(ResourceRef("service-account", accounts[-1]), "roles/iam.serviceAccountTokenCreator",
                        "user:carol@example.com"))
    context = AccessContext(parents=PARENTS, accounts_read=frozenset(accounts),
                            roles=roles("roles/artifactregistry.writer", "roles/iam.serviceAccountTokenCreator"))
    return state(*grants, *extra, context=context), context


def test_a_chain_of_accounts_is_followed_and_named_hop_by_hop() -> None:
    registry_state, context = chain_state("ci", "deployer")
    result = compute(registry_state, context)
    assert result.not_judged == ()
    push = {a.member: a for a in result.accesses if a.capability == "push"}
    assert set(push) == {f"serviceAccount:{account('ci')}", f"serviceAccount:{account('deployer')}",
                         "user:carol@example.com"}
    (carol,) = push["user:carol@example.com"].paths
    assert [hop.account for hop in carol.hops] == [account("deployer"), account("ci")]
    assert carol.describe() == (
        "acting as deployer@p.iam.gserviceaccount.com (roles/iam.serviceAccountTokenCreator on service account "
        "deployer@p.iam.gserviceaccount.com), which may act as ci@p.iam.gserviceaccount.com (roles/iam.service"
        "AccountTokenCreator on service account ci@p.iam.gserviceaccount.com), which holds roles/artifactregistry"
        ".writer on the repository")
    assert carol.to_json()["then"] == [{"service_account": account("ci"), "role": "roles/iam.serviceAccountToken"
                                        "Creator", "where": "service-account", "target": account("ci")}]


def test_a_loop_of_accounts_adds_nothing_and_ends() -> None:
    back = grant(ResourceRef("service-account", account("deployer")), "roles/iam.serviceAccountTokenCreator",
                 f"serviceAccount:{account('ci')}")
    registry_state, context = chain_state("ci", "deployer", extra=(back,))
    result = compute(registry_state, context)
    assert result.not_judged == ()
    ci = [a for a in result.accesses if a.member == f"serviceAccount:{account('ci')}" and a.capability == "push"]
    assert [p.hops for p in ci[0].paths] == [()]  # its own grant, not itself through deployer


def test_a_chain_of_four_accounts_is_followed_and_a_fifth_is_could_not_judge() -> None:
    registry_state, context = chain_state("a1", "a2", "a3", "a4")
    result = compute(registry_state, context)
    assert result.not_judged == ()
    carol = next(a for a in result.accesses if a.member == "user:carol@example.com" and a.capability == "push")
    assert len(carol.paths[0].hops) == 4

    registry_state, context = chain_state("a1", "a2", "a3", "a4", "a5")
    result = compute(registry_state, context)
    assert not any(a.member == "user:carol@example.com" for a in result.accesses)
    assert {(n.resource, n.reason) for n in result.not_judged} == {
        (REPO, f"who may act as service account {account('a5')} is not followed: it acts through a chain of 4 "
               "service accounts already, the longest followed")}


def test_an_account_further_up_a_chain_whose_policy_was_not_read_is_could_not_judge() -> None:
    registry_state, context = chain_state("ci", "deployer")
    context = AccessContext(parents=PARENTS, accounts_read=frozenset({account("ci")}), roles=context.roles)
    result = compute(registry_state, context)
    assert [(n.reason, n.capabilities) for n in result.not_judged] == [
        (f"the IAM policy of service account {account('deployer')} was not read",
         ("pull", "push", "move-tags"))]  # what the writer role allows


def test_an_account_named_in_upper_case_is_the_same_account() -> None:
    """IAM members are case-insensitive emails; the source reads (and records) each account lower-cased."""
    registry_state, context = chain_state("ci")
    shouting = grant(REPO, "roles/artifactregistry.writer", f"serviceAccount:{account('ci').upper()}")
    registry_state = state(shouting, *registry_state.grants[1:], context=context)
    result = compute(registry_state, context)
    assert result.not_judged == ()
    assert any(a.member == "user:carol@example.com" and a.capability == "push" for a in result.accesses)


def test_google_managed_accounts_are_not_followed() -> None:
    agent = "service-1001@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    context = AccessContext(parents=PARENTS, roles=roles("roles/artifactregistry.writer"))
    result = compute(state(grant(REPO, "roles/artifactregistry.writer", f"serviceAccount:{agent}"),
                           context=context), context)
    assert result.not_judged == ()


def test_fail_closed_on_what_could_not_be_read() -> None:
    custom = "organizations/1/roles/pusher"
    context = AccessContext(
        parents={PROJECT: FOLDER},  # the folder's parent was not read
        roles={**roles("roles/artifactregistry.writer"),
               custom: RoleDefinition(custom, UNKNOWN, "IAM roles.get", problem="Forbidden (403)")},
        unread={PROJECT: "Forbidden (403): denied"})
    result = compute(state(grant(REPO, custom, "group:ml@example.com"),
                           grant(REPO, "roles/artifactregistry.writer", f"serviceAccount:{CI}"),
                           context=context), context)
    reasons = {(n.resource.kind, n.member, n.reason) for n in result.not_judged}
    assert ("repository", None, "what is above folder folders/20 could not be read") in reasons
    assert ("repository", None, "the IAM policy of project p could not be read (Forbidden (403): denied)") in reasons
    assert ("repository", "group:ml@example.com",
            "role organizations/1/roles/pusher could not be read (Forbidden (403))") in reasons
    # Who may act as the writer account is unknown: its IAM policy was not read.
    assert any(n.reason == f"the IAM policy of service account {CI} was not read" and "push" in n.capabilities
               for n in result.not_judged)


def test_computed_once_per_state_and_absent_without_a_context() -> None:
    context = AccessContext(parents=PARENTS, roles=roles("roles/viewer"))
    judged = state(grant(PROJECT, "roles/viewer", "allAuthenticatedUsers"), context=context)
    assert effective_access(judged) is effective_access(judged)
    assert ("repository", "allAuthenticatedUsers", "pull") in table(effective_access(judged))
    assert effective_access(RegistryState()) is None
