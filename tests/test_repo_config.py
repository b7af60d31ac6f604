"""The [repo] config table: parsed, checked as a whole (exit 2 naming the key), env overrides."""

import pytest

from specctl.config import read_config, resolve
from specctl.errors import ConfigError

FULL = """
[repo]
template = "auditmos-projects/client-template"
teams = { developers = "push", leads = "maintain" }
topics = ["client", "web-app"]
readme = true
has_wiki = false
homepage = "https://auditmos.com"
delete_branch_on_merge = true
"""


def settings_for(tmp_path, text, env=None):
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return resolve(environ={}, env_flag=env, config=read_config(path))


def test_full_table_parses(tmp_path):
    repo = settings_for(tmp_path, FULL).repo_config()
    assert repo is not None
    assert repo.template == "auditmos-projects/client-template"
    assert repo.teams == {"developers": "push", "leads": "maintain"}
    assert repo.topics == ("client", "web-app")
    assert repo.readme is True
    assert repo.seeds_readme is False  # ignored with a template
    assert repo.settings == {
        "has_wiki": False,
        "homepage": "https://auditmos.com",
        "delete_branch_on_merge": True,
    }


def test_no_table_is_none(tmp_path):
    assert settings_for(tmp_path, 'org = "x"\n').repo_config() is None


def test_env_table_overrides_key_by_key_and_replaces_values_whole(tmp_path):
    text = (
        FULL
        + '[env.staging]\norg = "staging-org"\n[env.staging.repo]\nteams = { qa = "pull" }\ntopics = []\n'
    )
    base = settings_for(tmp_path, text).repo_config()
    staged = settings_for(tmp_path, text, env="staging").repo_config()
    assert base is not None
    assert staged is not None
    assert staged.teams == {"qa": "pull"}  # not merged with developers/leads
    assert staged.topics == ()
    assert staged.template == base.template
    assert staged.settings == base.settings


def test_env_repo_table_alone_counts(tmp_path):
    staged = settings_for(tmp_path, "[env.ci]\n[env.ci.repo]\nhas_wiki = false\n", env="ci").repo_config()
    assert staged is not None
    assert staged.settings == {"has_wiki": False}


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("colour = 'red'", "[repo]: unknown key 'colour'"),
        ("has_wiki = 'no'", "[repo] has_wiki = 'no': expected true or false"),
        ("homepage = 3", "[repo] homepage = 3: expected a string"),
        ("readme = 1", "[repo] readme = 1: expected true or false"),
        (
            "teams = { developers = 'write' }",
            "[repo] teams.developers = 'write': expected one of pull, triage",
        ),
        ("teams = ['developers']", "[repo] teams = ['developers']: expected a table"),
        ("topics = 'client'", "[repo] topics = 'client': expected a list"),
        ("topics = ['Client']", "[repo] topics: 'Client' is not a valid topic"),
        ("topics = ['a_b']", "[repo] topics: 'a_b' is not a valid topic"),
        (f"topics = ['{'x' * 51}']", "is not a valid topic"),
        (f"topics = [{', '.join(repr(f't{i}') for i in range(21))}]", "21 topics; GitHub allows at most 20"),
        ("template = 'not a repo'", "[repo] template: invalid repository"),
        ("template = 42", "[repo] template = 42"),
    ],
)
def test_bad_table_is_config_error_naming_the_key(tmp_path, table, needle):
    with pytest.raises(ConfigError) as e:
        settings_for(tmp_path, f"[repo]\n{table}\n")
    assert needle in e.value.message
    assert e.value.exit_code == 2


def test_bad_env_repo_table_names_it_even_when_not_selected(tmp_path):
    with pytest.raises(ConfigError, match=r"\[env.prod.repo\] teams.devs = 'owner'"):
        settings_for(tmp_path, '[env.prod]\n[env.prod.repo]\nteams = { devs = "owner" }\n')


def test_repo_must_be_a_table(tmp_path):
    with pytest.raises(ConfigError, match=r"\[repo\] must be a table"):
        settings_for(tmp_path, 'repo = "x"\n')


def test_bad_table_fails_a_store_only_command(cli, isolated):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir()
    path.write_text("[repo]\nteams = { developers = 'write' }\n")
    result = cli("projects")
    assert result.exit_code == 2
    assert "teams.developers = 'write'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_example_is_a_valid_table(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Provisioning", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    repo = settings_for(tmp_path, example).repo_config()
    assert repo is not None
    assert len(repo.settings) == 10  # every setting the table knows is shown
    assert settings_for(tmp_path, example, env="staging").repo_config().teams == {"qa": "pull"}
