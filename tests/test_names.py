import pytest

from specctl.errors import BadInput
from specctl.names import check_slug, check_text, is_slug, make_slug, one_edit_apart, parse_repo, slug_typed


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


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Société Générale", "societe-generale-12345678"),
        ("Müller", "muller-12345678"),
        ("Café Zürich", "cafe-zurich-12345678"),
        ("Ångström Łódź", "angstrom-odz-12345678"),  # Ł has no decomposition: it stays a separator
        ("ﬁnance", "finance-12345678"),  # NFKD also unfolds compatibility ligatures
    ],
)
def test_make_slug_folds_accents_since_the_slug_is_a_permanent_repo_name(name, slug):
    assert make_slug(name, lambda: "12345678") == slug


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
        # every form GitHub shows: the browser's address bar and the clone box
        ("https://github.com/acme/portal/tree/main", ("acme", "portal")),
        ("https://github.com/acme/portal/blob/main/README.md", ("acme", "portal")),
        ("https://github.com/acme/portal?tab=readme-ov-file", ("acme", "portal")),
        ("https://github.com/acme/portal#readme", ("acme", "portal")),
        ("github.com/acme/portal", ("acme", "portal")),
        ("www.github.com/acme/portal", ("acme", "portal")),
        ("https://www.github.com/acme/portal", ("acme", "portal")),
        ("http://github.com/acme/portal", ("acme", "portal")),
        ("ssh://git@github.com/acme/portal.git", ("acme", "portal")),
        ("git://github.com/acme/portal.git", ("acme", "portal")),
        ("HTTPS://GitHub.com/Acme/Portal", ("Acme", "Portal")),
        ("https://github.com/acme/my.site", ("acme", "my.site")),
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


def test_a_slug_typed_in_upper_case_is_taken_as_lower_case():
    assert slug_typed("ACME-Portal") == "acme-portal"
    assert slug_typed("Café") == "Café"  # not ASCII: left for check_slug to refuse as typed


@pytest.mark.parametrize(
    ("typo", "slug", "near"),
    [
        ("acme", "acne", True), ("acme", "acm", True), ("acme", "acmes", True), ("acme", "xacme", True),
        ("acme", "amce", True), ("acme", "acme", False), ("acme", "ac", False), ("acme", "emca", False),
        ("acme", "bcmf", False), ("", "a", True),
    ],
)  # fmt: skip
def test_one_edit_apart(typo, slug, near):
    assert one_edit_apart(typo, slug) is near
    assert one_edit_apart(slug, typo) is near
