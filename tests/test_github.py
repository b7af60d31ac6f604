"""The GitHub client against mocked HTTP (pytest-httpx: an unused or unexpected response fails)."""

import json

import httpx
import pytest

from conftest import TOKEN
from specctl import __version__
from specctl.config import Token
from specctl.errors import GitHubError
from specctl.github import GitHub

API = "https://api.github.com"
ORG = "auditmos-projects"
CREATE = f"{API}/orgs/{ORG}/repos"
NAME_TAKEN = {
    "message": "Repository creation failed.",
    "errors": [{"resource": "Repository", "code": "custom", "field": "name",
                "message": "name already exists on this account"}],
    "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository",
    "status": "422",
}  # fmt: skip


def repo_json(name, owner=ORG, created_at="2026-11-25T10:00:00Z"):
    return {"id": 1, "name": name, "full_name": f"{owner}/{name}", "private": True, "visibility": "private",
            "default_branch": "main", "html_url": f"https://github.com/{owner}/{name}",
            "created_at": created_at, "owner": {"login": owner}}  # fmt: skip


class FakeTime:
    def __init__(self):
        self.now = 1_800_000_000.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def time_():
    return FakeTime()


@pytest.fixture
def gh(time_):
    client = GitHub.connect(
        API, Token(TOKEN, "GH_TOKEN"), pace=1.0, max_wait=60, sleep=time_.sleep, clock=time_.clock,
        suffix=lambda: "x7k2",
    )  # fmt: skip
    yield client
    client.close()


# -- the seed's slices 1-4 -----------------------------------------------------------------


def test_create_happy_path_posts_a_private_repo_with_githubs_headers(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    created = gh.create_org_repo(ORG, "acme", "Client portal")
    assert created.repo.full_name == f"{ORG}/acme"
    assert (created.repo.private, created.repo.default_branch, created.adopted) == (True, "main", False)
    request = httpx_mock.get_request()
    assert json.loads(request.content) == {
        "name": "acme", "description": "Client portal", "private": True, "auto_init": False,
    }  # fmt: skip
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["User-Agent"] == f"specctl/{__version__}"


def test_create_401_is_unauthorized_with_the_fix(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=401, json={"message": "Bad credentials"})
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert (e.value.code, e.value.http_status, e.value.exit_code) == ("GITHUB_UNAUTHORIZED", 401, 4)
    assert "Bad credentials" in e.value.message
    assert "new one" in e.value.message


def test_create_422_name_taken_retries_once_with_a_suffix(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json=NAME_TAKEN)
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", json=repo_json("acme", created_at="2020-01-01T00:00:00Z")
    )
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme-x7k2"))
    created = gh.create_org_repo(ORG, "acme")
    assert created.repo.full_name == f"{ORG}/acme-x7k2"
    posts = [json.loads(r.content)["name"] for r in httpx_mock.get_requests(method="POST")]
    assert posts == ["acme", "acme-x7k2"]


def test_create_422_twice_is_name_taken(gh, httpx_mock):
    for name in ("acme", "acme-x7k2"):
        httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json=NAME_TAKEN)
        httpx_mock.add_response(url=f"{API}/repos/{ORG}/{name}", json=repo_json(name))
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert (e.value.code, e.value.http_status) == ("GITHUB_REPO_NAME_TAKEN", 422)
    assert len(httpx_mock.get_requests(method="POST")) == 2


# -- other answers ----------------------------------------------------------------------------


def test_other_422_is_validation_with_githubs_message_and_not_retried(gh, httpx_mock):
    body = {"message": "Repository creation failed.", "errors": [{"resource": "Repository", "code": "custom",
            "field": "visibility", "message": "Visibility can't be private. Please upgrade your plan."}]}  # fmt: skip
    httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json=body)
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_VALIDATION"
    assert "Visibility can't be private" in e.value.message


def test_403_names_the_permission_github_wants(gh, httpx_mock):
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403,
        json={"message": "Resource not accessible by personal access token"},
        headers={"X-Accepted-GitHub-Permissions": "administration=write"},
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_FORBIDDEN"
    assert "needs Administration: write" in e.value.message
    assert e.value.exit_code == 1


def test_403_sso_gives_the_authorization_url(gh, httpx_mock):
    url = f"https://github.com/orgs/{ORG}/sso?authorization_request=abc"
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, json={"message": "Resource protected by SAML"},
        headers={"X-GitHub-SSO": f"required; url={url}"},
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_FORBIDDEN"
    assert url in e.value.message


def test_404_org_is_not_found(gh, httpx_mock):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=404, json={"message": "Not Found"})
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_NOT_FOUND"
    assert f"org {ORG} not found" in e.value.message


# -- rate limits --------------------------------------------------------------------------------


def test_primary_limit_within_max_wait_is_waited_out(gh, httpx_mock, time_):
    reset = int(time_.now) + 20
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, json={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )  # fmt: skip
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    assert gh.create_org_repo(ORG, "acme").repo.name == "acme"
    assert 20 <= sum(time_.slept) <= 22


def test_primary_limit_beyond_max_wait_fails_fast_with_the_reset_time(gh, httpx_mock, time_):
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=429, json={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time_.now) + 3600)},
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_RATE_LIMITED"
    assert "resets at" in e.value.message
    assert "UTC" in e.value.message
    assert time_.slept == []


def test_secondary_limit_honours_retry_after(gh, httpx_mock, time_):
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", status_code=403,
        json={"message": "You have exceeded a secondary rate limit."}, headers={"retry-after": "2"},
    )  # fmt: skip
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    assert gh.get_repo(ORG, "acme").name == "acme"
    assert time_.slept == [2.0]


def test_secondary_limit_without_retry_after_waits_a_minute_or_fails(gh, httpx_mock, time_):
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", status_code=403,
        json={"message": "You have exceeded a secondary rate limit. Please wait."},
    )  # fmt: skip
    gh.http.max_wait = 30
    with pytest.raises(GitHubError) as e:
        gh.get_repo(ORG, "acme")
    assert e.value.code == "GITHUB_RATE_LIMITED"
    assert "secondary" in e.value.message
    assert time_.slept == []


def test_mutations_are_paced(gh, httpx_mock, time_):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("a"))
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("b"))
    gh.create_org_repo(ORG, "a")
    gh.create_org_repo(ORG, "b")
    assert time_.slept == [1.0]


# -- transient failures and unknown outcomes ------------------------------------------------------


def test_502_then_201_looks_the_name_up_before_posting_again(gh, httpx_mock, time_):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=502, json={"message": "Bad Gateway"})
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", status_code=404, json={"message": "Not Found"})
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    created = gh.create_org_repo(ORG, "acme")
    assert (created.repo.name, created.adopted) == ("acme", False)
    assert [r.method for r in httpx_mock.get_requests()] == ["POST", "GET", "POST"]


def test_timeout_on_create_finds_the_repo_it_made_and_adopts_it(gh, httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), method="POST", url=CREATE)
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    created = gh.create_org_repo(ORG, "acme")
    assert (created.repo.full_name, created.adopted) == (f"{ORG}/acme", True)
    assert len(httpx_mock.get_requests(method="POST")) == 1


def test_create_gives_up_after_three_unknown_outcomes(gh, httpx_mock, time_):
    for _ in range(3):
        httpx_mock.add_response(method="POST", url=CREATE, status_code=500, json={"message": "boom"})
        httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", status_code=404, json={"message": "Not Found"})
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert (e.value.code, e.value.http_status) == ("GITHUB_UNAVAILABLE", 500)
    assert len(httpx_mock.get_requests(method="POST")) == 3


def test_reads_retry_5xx_with_backoff(gh, httpx_mock, time_):
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", status_code=503)
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{API}/repos/{ORG}/acme")
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    assert gh.get_repo(ORG, "acme").name == "acme"
    assert time_.slept == [1.0, 2.0]


def test_network_down_is_unavailable_after_three_tries(gh, httpx_mock):
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{API}/repos/{ORG}/acme")
    with pytest.raises(GitHubError) as e:
        gh.get_repo(ORG, "acme")
    assert e.value.code == "GITHUB_UNAVAILABLE"
    assert e.value.message == "GitHub is unavailable (cannot connect to api.github.com) after 3 tries"


def test_get_repo_404_is_none_and_canonical_case_is_kept(gh, httpx_mock):
    httpx_mock.add_response(url=f"{API}/repos/acme/nope", status_code=404, json={"message": "Not Found"})
    httpx_mock.add_response(url=f"{API}/repos/acme/portal", json=repo_json("Portal", owner="Acme"))
    assert gh.get_repo("acme", "nope") is None
    assert gh.get_repo("acme", "portal").full_name == "Acme/Portal"


# -- pagination -------------------------------------------------------------------------------------


def page_link(page, last=3, base=f"{API}/organizations/42/repos"):
    links = []
    if page > 1:
        links.append(f'<{base}?per_page=100&page={page - 1}>; rel="prev"')
    if page < last:
        links += [
            f'<{base}?per_page=100&page={page + 1}>; rel="next"',
            f'<{base}?per_page=100&page={last}>; rel="last"',
        ]
    if page > 1:
        links.append(f'<{base}?per_page=100&page=1>; rel="first"')
    return {"Link": ", ".join(links)}


@pytest.mark.parametrize("concurrency", [1, 4])
def test_list_follows_link_urls_as_given_across_three_pages(gh, httpx_mock, concurrency):
    gh.concurrency = concurrency
    httpx_mock.add_response(
        url=f"{API}/orgs/{ORG}/repos?per_page=100&sort=full_name", json=[repo_json(f"r{i}") for i in range(100)],
        headers=page_link(1),
    )  # fmt: skip
    for page in (2, 3):
        httpx_mock.add_response(
            url=f"{API}/organizations/42/repos?per_page=100&page={page}",
            json=[repo_json(f"r{page}-{i}") for i in range(100 if page == 2 else 7)], headers=page_link(page),
        )  # fmt: skip
    repos = gh.list_repos(ORG)
    assert len(repos) == 207
    assert len({r.full_name for r in repos}) == 207


def test_list_for_a_user_falls_back_from_orgs(gh, httpx_mock):
    httpx_mock.add_response(url=f"{API}/orgs/someone/repos?per_page=100&sort=full_name", status_code=404)
    httpx_mock.add_response(
        url=f"{API}/users/someone/repos?per_page=100&sort=full_name", json=[repo_json("x", "someone")]
    )
    assert [r.full_name for r in gh.list_repos("someone")] == ["someone/x"]


def test_list_limit_stops_fetching_early(gh, httpx_mock):
    gh.concurrency = 1
    httpx_mock.add_response(
        url=f"{API}/user/repos?per_page=100&sort=full_name", json=[repo_json(f"r{i}") for i in range(100)],
        headers=page_link(1, base=f"{API}/user/repos"),
    )  # fmt: skip
    assert len(gh.list_repos(limit=50)) == 50


# -- where the token may go -----------------------------------------------------------------------


def test_no_token_over_plain_http_to_a_remote_host(httpx_mock):
    client = GitHub.connect("http://api.example.com", Token(TOKEN, "GH_TOKEN"))
    httpx_mock.add_response(url="http://api.example.com/user", json={"login": "x"})
    client.user()
    assert "Authorization" not in httpx_mock.get_request().headers


def test_token_is_sent_over_loopback_http(httpx_mock):
    client = GitHub.connect("http://127.0.0.1:9", Token(TOKEN, "GH_TOKEN"))
    httpx_mock.add_response(url="http://127.0.0.1:9/user", json={"login": "x"})
    client.user()
    assert httpx_mock.get_request().headers["Authorization"] == f"Bearer {TOKEN}"


def test_redirect_to_another_host_drops_the_token(gh, httpx_mock):
    httpx_mock.add_response(
        url=f"{API}/repos/acme/old",
        status_code=301,
        headers={"Location": "https://evil.example.com/repos/acme/new"},
    )
    httpx_mock.add_response(url="https://evil.example.com/repos/acme/new", json=repo_json("new", "acme"))
    gh.get_repo("acme", "old")
    evil = httpx_mock.get_request(url="https://evil.example.com/repos/acme/new")
    assert "Authorization" not in evil.headers


def test_redirect_within_the_api_host_is_followed_with_the_token(gh, httpx_mock):
    httpx_mock.add_response(
        url=f"{API}/repos/acme/old", status_code=301, headers={"Location": f"{API}/repositories/7"}
    )
    httpx_mock.add_response(url=f"{API}/repositories/7", json=repo_json("new", "acme"))
    assert gh.get_repo("acme", "old").full_name == "acme/new"
    assert httpx_mock.get_request(url=f"{API}/repositories/7").headers["Authorization"] == f"Bearer {TOKEN}"


def test_pagination_pointing_at_another_host_is_refused(gh, httpx_mock):
    gh.concurrency = 1
    httpx_mock.add_response(
        url=f"{API}/user/repos?per_page=100&sort=full_name", json=[repo_json("a")],
        headers={"Link": '<https://evil.example.com/user/repos?page=2>; rel="next"'},
    )  # fmt: skip
    with pytest.raises(GitHubError, match="another host"):
        gh.list_repos()


def test_token_is_in_no_repr(gh):
    assert TOKEN not in repr(gh.client.auth)
    assert TOKEN not in repr(gh.client.headers)


def test_name_taken_by_a_repo_the_token_cannot_see_moves_on_to_a_suffix(gh, httpx_mock):
    # GitHub says the name exists, but GET cannot see it (a fine-grained token limited to some
    # repos): it is not ours to adopt and re-posting the same name would never end.
    httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json=NAME_TAKEN)
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", status_code=404, json={"message": "Not Found"})
    suffixed = {"name": "acme-x7k2", "description": "", "private": True, "auto_init": False}
    httpx_mock.add_response(
        method="POST", url=CREATE, match_json=suffixed, status_code=201, json=repo_json("acme-x7k2")
    )
    assert gh.create_org_repo(ORG, "acme").repo.name == "acme-x7k2"


def test_403_permission_sets_are_alternatives(gh, httpx_mock):
    # GitHub's changelog (2023-08-10): valid sets are separated by ";", so this reads
    # "repository_projects write, or organization_projects admin".
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, json={"message": "Resource not accessible by integration"},
        headers={"X-Accepted-GitHub-Permissions": "repository_projects=write; organization_projects=admin,members=read"},
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert (
        "needs Repository Projects: write, or Organization Projects: admin and Members: read"
        in e.value.message
    )
