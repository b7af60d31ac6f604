import pytest

from specctl.errors import BadInput
from specctl.names import check_slug, check_text, is_slug, make_slug, parse_repo


@pytest.mark.parametrize("slug", ["a", "acme", "acme-portal-3f9a1c07", "a1-b2", "x" * 80, "0"])
def test_valid_slugs(slug):
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Acme",
        "acme portal",
        "acme--portal",
        "-acme",
        "acme-",
        "x" * 81,
        "café",
        "a_b",
        "a/b",
        "a\nb",
        "../x",
    ],
)
def test_invalid_slugs(slug):
    with pytest.raises(BadInput, match="invalid slug"):
        check_slug(slug)


def test_make_slug_as_the_web_app_does():
    assert make_slug("Acme Portal", lambda: "3f9a1c07") == "acme-portal-3f9a1c07"
    assert make_slug("  ACME -- Portal!! v2 ", lambda: "00ff00ff") == "acme-portal-v2-00ff00ff"
    assert make_slug("Café Zürich", lambda: "12345678") == "caf-z-rich-12345678"


def test_make_slug_without_any_ascii_letter_is_the_hex_alone():
    assert make_slug("日本語 !!", lambda: "deadbeef") == "deadbeef"


def test_make_slug_cuts_long_names_to_80_without_a_trailing_dash():
    slug = make_slug("word " * 40, lambda: "abcdef01")
    assert len(slug) <= 80
    assert is_slug(slug)
    assert slug.endswith("-abcdef01")


def test_make_slug_random_part_is_8_hex():
    slug = make_slug("Acme")
    assert slug.startswith("acme-")
    assert len(slug) == 13
    int(slug[-8:], 16)


@pytest.mark.parametrize(
    "char", ["\x00", "\n", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"]
)
def test_names_refuse_c0_c1_controls_and_bidi_overrides(char):
    # U+0085 is a line break to some terminals, U+009B a CSI escape, U+202E turns text around
    with pytest.raises(BadInput, match="control characters"):
        check_text(f"Acme{char}Portal", "name", max_len=200, required=True)
    assert check_text("Société Générale – 東京", "name", max_len=200, required=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme/portal", ("acme", "portal")),
        ("Acme-Inc/portal.web_v2", ("Acme-Inc", "portal.web_v2")),
        ("https://github.com/acme/portal", ("acme", "portal")),
        ("https://github.com/acme/portal.git", ("acme", "portal")),
        ("https://github.com/acme/portal/", ("acme", "portal")),
        ("git@github.com:acme/portal.git", ("acme", "portal")),
    ],
)
def test_parse_repo_forms(value, expected):
    assert parse_repo(value) == expected


@pytest.mark.parametrize(
    "value",
    ["acme", "acme/", "/portal", "acme/portal/x", "-acme/portal", "ac--me/portal", "acme/..", "acme/.",
     "a" * 40 + "/p", "acme/" + "p" * 101, "acme/por tal", "https://gitlab.com/acme/portal", ""],
)  # fmt: skip
def test_parse_repo_rejects(value):
    with pytest.raises(BadInput, match="invalid repository"):
        parse_repo(value)
