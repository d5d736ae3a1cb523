"""The access matrix in every format: JSON (schema-valid, read back), HTML (a reviewer filters "who can delete
versions in repository X", checked in headless Chromium), Markdown; SARIF, JUnit, CSV and OSCAL carry the
findings that effective access raises, with their paths."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from registry_guard.catalogue.access_model import AccessContext, RoleDefinition
from registry_guard.catalogue.capabilities import predefined_roles
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import Condition, Grant, RegistryState, Repository, ResourceRef
from registry_guard.catalogue.rule import Inputs, Stage
from test_fmt_html import _chromium, chromium, parse  # noqa: F401  (chromium: the fixture)

from audit.access_matrix import access_matrix
from audit.formats import access_html as html_access
from audit.formats import html, render
from audit.formats.json_report import validate
from audit.merge import _merge_access
from audit.report import Report, build_report, inventory_of, report_from_json

MODELS = ResourceRef("repository", "projects/ml-prod/locations/us-central1/repositories/models")
SCRATCH = ResourceRef("repository", "projects/ml-prod/locations/us-central1/repositories/scratch")
PROJECT = ResourceRef("project", "ml-prod")
FOLDER = ResourceRef("folder", "folders/20")
ORG = ResourceRef("organization", "organizations/1")
CI = "ci@ml-prod.iam.gserviceaccount.com"
UNTIL = Condition("request.time < timestamp('2027-01-01T00:00:00Z')", "until 2027")


def _grant(target: ResourceRef, role: str, member: str, condition: Condition | None = None) -> Grant:
    return Grant(target, role, member, "iam-policy", condition, source="test")


@pytest.fixture(scope="module")
def report() -> Report:
    grants = (
        _grant(FOLDER, "roles/artifactregistry.repoAdmin", "group:release@example.com"),
        _grant(ORG, "roles/viewer", "domain:example.com", UNTIL),
        _grant(MODELS, "roles/artifactregistry.writer", f"serviceAccount:{CI}"),
        _grant(ResourceRef("service-account", CI), "roles/iam.serviceAccountTokenCreator", "user:dave@example.com"),
        _grant(SCRATCH, "roles/artifactregistry.repoAdmin", "user:erin@example.com"),
    )
    snapshot = predefined_roles().roles
    context = AccessContext(parents={PROJECT: FOLDER, FOLDER: ORG, ORG: None}, accounts_read=frozenset({CI}),
                            roles={g.role: RoleDefinition(str(g.role), snapshot[str(g.role)].permissions, "test")
                                   for g in grants}, basis="test basis")
    state = RegistryState(repositories=(Repository(MODELS), Repository(SCRATCH)), grants=grants, access=context)
    judged = judge(Inputs(state), Stage.LIVE, ["no-public-access", "no-broad-admin", "no-personal-writers"])
    from registry_guard.catalogue.effective_access import effective_access

    effective = effective_access(state)
    assert effective is not None
    built = build_report(generated_at=datetime(2026, 12, 1, tzinfo=UTC), target={"effective_access": {}},
                         errors=(), findings=judged.findings, undetermined=judged.undetermined,
                         inventory=inventory_of(state), rules_evaluated=judged.evaluated)
    return dataclasses.replace(built, access=access_matrix(effective))


def _members(report: Report, resource: ResourceRef, capability: str) -> set[str]:
    assert report.access is not None
    found = next(r for r in report.access["resources"] if r["resource"] == str(resource))
    return {p["member"] for p in found["principals"] if capability in p["capabilities"]}


def test_json_matrix_is_schema_valid_and_read_back(report: Report) -> None:
    document = report.to_json()
    validate(document)
    assert report_from_json(document).access == document["access"]
    assert _members(report, MODELS, "delete-versions") == {"group:release@example.com"}
    assert _members(report, MODELS, "push") == {"group:release@example.com", f"serviceAccount:{CI}",
                                                "user:dave@example.com"}
    dave = next(p for r in document["access"]["resources"] for p in r["principals"]
                if p["member"] == "user:dave@example.com")
    assert dave["capabilities"]["push"][0]["through"] == {
        "service_account": CI, "role": "roles/iam.serviceAccountTokenCreator", "where": "service-account",
        "target": CI}
    domain = next(p for r in document["access"]["resources"] for p in r["principals"]
                  if p["member"] == "domain:example.com")
    assert domain["capabilities"]["pull"][0]["condition"] == {"expression": UNTIL.expression, "title": "until 2027"}


def test_markdown_matrix_with_paths(report: Report) -> None:
    text = render(report, "markdown")
    assert "### Who can do what" in text
    assert "| Principal | pull | push new versions | move or overwrite tags | delete versions | change IAM |" in text
    assert f"acting as {CI} (roles/iam.serviceAccountTokenCreator on service account {CI})" in text
    assert "roles/viewer on organization organizations/1 if until 2027" in text


def test_html_matrix_cells_show_their_paths(report: Report) -> None:
    dom = parse(html.render(report))
    rows = [e for e in dom.select("tr") if e.attrs.get("class") == "access-row"]
    assert {r.attrs["data-member"] for r in rows} >= {"user:dave@example.com", "group:release@example.com"}
    summaries = [e.attrs.get("title") or "" for e in dom.select("summary")]
    assert any(t.startswith(f"acting as {CI}") for t in summaries)
    assert "hidden" in dom.by_id("access-filters").attrs  # shown by the script only


@pytest.mark.parametrize("name", ["sarif", "junit", "csv", "oscal"])
def test_other_formats_carry_the_effective_findings(report: Report, name: str) -> None:
    text = render(report, name)
    assert f"acting as {CI}" in text  # the impersonation path, in user:dave's no-personal-writers finding
    assert "roles/artifactregistry.repoAdmin on folder folders/20" in text  # the inherited admin


def test_merged_shards_list_every_resource(report: Report) -> None:
    assert report.access is not None
    first, second = ({**report.access, "resources": [r]} for r in report.access["resources"])
    merged = _merge_access([second, None, first])
    assert merged is not None and [r["resource"] for r in merged["resources"]] == [str(MODELS), str(SCRATCH)]


def test_chromium_who_can_delete_versions_in_a_repository(chromium: Path, report: Report,  # noqa: F811
                                                          tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render(report), encoding="utf-8")
    url = f"{page.as_uri()}#access-resource={MODELS}&access-capability=delete-versions"
    dom = parse(_chromium(chromium, url, "--dump-dom", "--virtual-time-budget=5000").stdout)
    assert "hidden" not in dom.by_id("access-filters").attrs
    rows = [e for e in dom.select("tr") if e.attrs.get("class") == "access-row"]
    visible = {r.attrs["data-member"] for r in rows if "hidden" not in r.attrs}
    assert visible == {"group:release@example.com"}
    blocks = {e.attrs["data-resource"]: "hidden" in e.attrs for e in dom.select("div")
              if e.attrs.get("class") == "access-resource"}
    assert blocks == {str(MODELS): False, str(SCRATCH): True}
    assert dom.by_id("access-count").text == "1"


def test_html_shows_the_first_repositories_and_counts_the_rest(report: Report) -> None:
    assert report.access is not None
    many = [{**report.access["resources"][0], "resource": f"repository:projects/p/locations/l/repositories/r{i}",
             "name": f"projects/p/locations/l/repositories/r{i}"} for i in range(html_access.MAX_RESOURCES + 5)]
    dom = parse(html.render(dataclasses.replace(report, access={**report.access, "resources": many})))
    shown = [e for e in dom.select("div") if e.attrs.get("class") == "access-resource"]
    assert len(shown) == html_access.MAX_RESOURCES
    assert dom.by_id("access-left-out").text.startswith("5 more repositories and buckets are not shown here")
