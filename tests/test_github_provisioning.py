"""The provisioning endpoints of the GitHub client against mocked HTTP (pytest-httpx: an unused
or unexpected request fails the test)."""

import base64
import json

import httpx
import pytest

from conftest import TOKEN
from specctl.config import Token
from specctl.errors import GitHubError
from specctl.github import GitHub
from test_github import API, ORG, FakeTime, repo_json

TEMPLATE = f"{ORG}/client-template"
GENERATE = f"{API}/repos/{TEMPLATE}/generate"


@pytest.fixture
def time_():
    return FakeTime()


@pytest.fixture
def gh(time_):
    client = GitHub.connect(
        API, Token(TOKEN, "GH_TOKEN"), pace=1.0, sleep=time_.sleep, clock=time_.clock, suffix=lambda: "x7k2"
    )
    yield client
    client.close()


CLONE_TAKEN = {
    "message": "Repository creation failed.",
    "errors": ["Could not clone: Name already exists on this account"],
    "status": "422",
}


def test_generate_posts_to_the_template_with_the_org_as_owner(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=GENERATE, status_code=201, json=repo_json("acme"))
    created = gh.generate_repo(TEMPLATE, ORG, "acme", "Client portal")
    assert (created.repo.full_name, created.adopted) == (f"{ORG}/acme", False)
    assert json.loads(httpx_mock.get_request().content) == {
        "owner": ORG, "name": "acme", "description": "Client portal", "private": True,
    }  # fmt: skip


def test_generate_name_taken_as_strings_retries_once_with_a_suffix(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=GENERATE, status_code=422, json=CLONE_TAKEN)
    httpx_mock.add_response(method="GET", url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    httpx_mock.add_response(method="POST", url=GENERATE, status_code=201, json=repo_json("acme-x7k2"))
    created = gh.generate_repo(TEMPLATE, ORG, "acme")
    assert created.repo.full_name == f"{ORG}/acme-x7k2"
    names = [json.loads(r.content)["name"] for r in httpx_mock.get_requests(method="POST")]
    assert names == ["acme", "acme-x7k2"]


def test_generate_unknown_outcome_is_resolved_by_a_lookup_not_a_second_post(gh, httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), method="POST", url=GENERATE)
    httpx_mock.add_response(method="GET", url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    created = gh.generate_repo(TEMPLATE, ORG, "acme")
    assert (created.repo.full_name, created.adopted) == (f"{ORG}/acme", True)
    assert len(httpx_mock.get_requests(method="POST")) == 1


def test_generate_from_a_missing_template_names_it(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=GENERATE, status_code=404, json={"message": "Not Found"})
    with pytest.raises(GitHubError) as e:
        gh.generate_repo(TEMPLATE, ORG, "acme")
    assert e.value.code == "GITHUB_NOT_FOUND"
    assert f"template {TEMPLATE} not found" in e.value.message


def test_generate_from_a_repo_that_is_not_a_template_names_it(gh, httpx_mock):
    body = {"message": f"{TEMPLATE} is not a template repository"}
    httpx_mock.add_response(method="POST", url=GENERATE, status_code=422, json=body)
    with pytest.raises(GitHubError) as e:
        gh.generate_repo(TEMPLATE, ORG, "acme")
    assert e.value.code == "GITHUB_VALIDATION"
    assert e.value.message.startswith(f"cannot create from template {TEMPLATE}: ")
    assert "is not a template repository" in e.value.message


def test_reads(gh, httpx_mock):
    base = f"{API}/repos/{ORG}/acme"
    httpx_mock.add_response(method="GET", url=base, json={**repo_json("acme"), "has_wiki": True})
    httpx_mock.add_response(method="GET", url=f"{base}/topics", json={"names": ["client"]})
    page2 = f"{API}/repositories/1/teams?per_page=100&page=2"
    httpx_mock.add_response(
        method="GET", url=f"{base}/teams?per_page=100", json=[{"slug": "Developers", "permission": "push"}],
        headers={"Link": f'<{page2}>; rel="next", <{page2}>; rel="last"'},
    )  # fmt: skip
    httpx_mock.add_response(method="GET", url=page2, json=[{"slug": "leads", "permission": "maintain"}])
    httpx_mock.add_response(
        method="GET", url=f"{base}/readme", status_code=404, json={"message": "Not Found"}
    )
    httpx_mock.add_response(method="GET", url=f"{API}/orgs/{ORG}/teams/qa", status_code=404)
    assert gh.repo_data(ORG, "acme")["has_wiki"] is True
    assert gh.topics(ORG, "acme") == ["client"]
    assert gh.repo_teams(ORG, "acme") == {"developers": "push", "leads": "maintain"}
    assert gh.has_readme(ORG, "acme") is False
    assert gh.team(ORG, "qa") is None


def test_writes_are_paced(gh, httpx_mock, time_):
    base = f"{API}/repos/{ORG}/acme"
    httpx_mock.add_response(method="PATCH", url=base, json={**repo_json("acme"), "has_wiki": False})
    httpx_mock.add_response(method="PUT", url=f"{base}/topics", json={"names": ["client"]})
    httpx_mock.add_response(
        method="PUT", url=f"{API}/orgs/{ORG}/teams/developers/repos/{ORG}/acme", status_code=204
    )
    httpx_mock.add_response(method="PUT", url=f"{base}/contents/README.md", status_code=201, json={})
    assert gh.update_repo(ORG, "acme", {"has_wiki": False})["has_wiki"] is False
    gh.set_topics(ORG, "acme", ["client"])
    gh.set_team_permission(ORG, "developers", ORG, "acme", "push")
    gh.create_file(ORG, "acme", "README.md", "# Acme\n", "Add README")
    bodies = [json.loads(r.content) for r in httpx_mock.get_requests()]
    assert bodies[:3] == [{"has_wiki": False}, {"names": ["client"]}, {"permission": "push"}]
    assert base64.b64decode(bodies[3]["content"]) == b"# Acme\n"
    assert "sha" not in bodies[3]  # never replaces a file
    assert time_.slept == [1.0, 1.0, 1.0]  # pace between the four writes


def test_a_write_with_no_answer_fails_its_step_without_a_retry(gh, httpx_mock):
    url = f"{API}/orgs/{ORG}/teams/developers/repos/{ORG}/acme"
    httpx_mock.add_exception(httpx.ConnectError("refused"), method="PUT", url=url)
    with pytest.raises(GitHubError) as e:
        gh.set_team_permission(ORG, "developers", ORG, "acme", "push")
    assert e.value.code == "GITHUB_UNAVAILABLE"


def test_a_refused_team_write_says_what_is_missing(gh, httpx_mock):
    url = f"{API}/orgs/{ORG}/teams/developers/repos/{ORG}/acme"
    httpx_mock.add_response(
        method="PUT", url=url, status_code=403, json={"message": "Resource not accessible by personal access token"},
        headers={"X-Accepted-GitHub-Permissions": "administration=write"},
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.set_team_permission(ORG, "developers", ORG, "acme", "push")
    assert e.value.code == "GITHUB_FORBIDDEN"
    assert "team developers" in e.value.message
    assert "Administration: write" in e.value.message
