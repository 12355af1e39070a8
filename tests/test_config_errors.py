"""One fixture per configuration error: the exact message, line and column of each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "config-errors"

# Each expected line is `<case><rest>`: the case's own path is its prefix.
CASES: dict[str, list[str]] = {
    "amigo-unknown-type.yaml": [
        ":11:22: error: Input should be 'conversation-post-processing-complete', 'api-key-expiration-soon' or 'agent-framework-resource-updated' (destinations[0].accepted_types[0])",
    ],
    "amigo-with-amiqus-field.yaml": [
        ":11:5: error: 'events' is not a field of Amigo destinations (they take accepted_types, retry_attempts) (destinations[0].events)",
    ],
    "amiqus-no-events.yaml": [
        ":10:13: error: events must list at least one event (destinations[0].events)",
    ],
    "amiqus-ping.yaml": [
        ":10:14: error: unknown Amiqus event 'ping' ('ping' cannot be subscribed to) (destinations[0].events[0])",
    ],
    "amiqus-unknown-event.yaml": [
        ":10:24: error: unknown Amiqus event 'records.created' (destinations[0].events[1])",
    ],
    "amiqus-watchlist-wildcard.yaml": [
        ":10:14: error: unknown Amiqus event 'watchlist.*' (destinations[0].events[0])",
    ],
    "amiqus-with-amigo-field.yaml": [
        ":11:5: error: 'retry_attempts' is not a field of Amiqus destinations (they take events, enabled) (destinations[0].retry_attempts)",
    ],
    "bad-base-url.yaml": [
        ":6:15: error: base_url must be an http(s) URL or 'emulator' (providers.prod.base_url)",
    ],
    "bad-duration.yaml": [
        ":11:25: error: invalid duration '3 months': use a number and a unit (w, d, h, m, s), e.g. 90d or 1h30m (destinations[0].rotation.max_age)",
    ],
    "bad-name.yaml": [
        ":8:11: error: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' (destinations[0].name)",
    ],
    "bad-protect.yaml": [
        ":11:14: error: Input should be a valid boolean, unable to interpret input (destinations[0].protect)",
    ],
    "bad-unmanaged.yaml": [
        ":6:16: error: Input should be 'ignore', 'report' or 'delete' (providers.prod.unmanaged)",
    ],
    "duplicate-mapping-key.yaml": [
        ":10:5: error: duplicate key 'name' (first defined at line 8, column 5) (destinations[0].name)",
    ],
    "duplicate-name.yaml": [
        ":12:11: error: destination name 'orders' is already used at duplicate-name.yaml:8:11 (destinations[1].name)",
    ],
    "duplicate-url.yaml": [
        ":14:10: error: url is already declared for provider 'prod' at duplicate-url.yaml:10:10 (destinations[1].url)",
    ],
    "eleven-destinations.yaml": [
        ":20:5: error: Amigo organization 'acme' would have 11 destinations; at most 10 are allowed (d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11) (destinations[10])",
    ],
    "http-url.yaml": [
        ":10:10: error: url must use https, not 'http' (destinations[0].url)",
    ],
    "missing-accepted-types.yaml": [
        ":8:5: error: missing required key 'accepted_types' (destinations[0].accepted_types)",
    ],
    "missing-env-var.yaml": [
        ":6:21: error: environment variable WEBHOOKCTL_TEST_UNSET_KEY is not set (providers.prod.auth.api_key)",
    ],
    "missing-organization.yaml": [
        ":4:5: error: missing required key 'organization' (providers.prod.organization)",
    ],
    "missing-url.yaml": [
        ":8:5: error: missing required key 'url' (destinations[0].url)",
    ],
    "missing-version.yaml": [
        ":1:1: error: missing 'version: 1' (in at least one file) (version)",
    ],
    "name-in-two-files": [
        "/b.yaml:2:11: error: destination name 'orders' is already used at name-in-two-files/a.yaml:8:11 (destinations[1].name)",
    ],
    "not-a-mapping.yaml": [
        ":1:1: error: a configuration file must be a mapping of keys",
    ],
    "provider-in-two-files": [
        "/b.yaml:2:3: error: provider 'prod' is already defined at provider-in-two-files/a.yaml:3:3 (providers.prod)",
    ],
    "retry-attempts-six.yaml": [
        ":11:21: error: Input should be less than or equal to 5 (destinations[0].retry_attempts)",
    ],
    "retry-attempts-zero.yaml": [
        ":11:21: error: Input should be greater than or equal to 1 (destinations[0].retry_attempts)",
    ],
    "secrets-in-two-files": [
        "/b.yaml:1:1: error: section 'secrets' is already defined at secrets-in-two-files/a.yaml:7:1 (secrets)",
    ],
    "unknown-auth-key.yaml": [
        ":6:54: error: unknown key 'api_secret'; expected one of api_key, api_key_id, user_id, scheme (providers.prod.auth.api_secret)",
    ],
    "unknown-destination-key.yaml": [
        ":11:5: error: unknown key 'retry_attempt', did you mean 'retry_attempts'? (destinations[0].retry_attempt)",
    ],
    "unknown-provider-key.yaml": [
        ":6:5: error: unknown key 'unmanagd', did you mean 'unmanaged'? (providers.prod.unmanagd)",
    ],
    "unknown-provider-reference.yaml": [
        ":9:15: error: unknown provider 'staging' (providers: prod) (destinations[0].provider)",
    ],
    "unknown-provider-type.yaml": [
        ":4:11: error: provider 'type' must be one of 'amigo', 'amiqus' (providers.prod.type)",
    ],
    "unknown-top-level-key.yaml": [
        ":7:1: error: unknown key 'destination', did you mean 'destinations'? (destination)",
    ],
    "wrong-version.yaml": [
        ":1:10: error: Input should be 1 (version)",
    ],
    "amigo-repeated-type.yaml": [
        ":11:86: error: type 'conversation-post-processing-complete' is listed twice (destinations[0].accepted_types[2])",
    ],
    "empty-organization.yaml": [
        ":5:19: error: String should have at least 1 character (providers.prod.organization)",
    ],
    "name-off.yaml": [
        ":8:11: error: Input should be a valid string (YAML reads a bare yes, no, on, off, true or false as a boolean: quote it) (destinations[0].name)",
    ],
    "non-ascii-url.yaml": [
        ":10:10: error: url must be ASCII: percent-encode other characters, and write a host in punycode (xn--) (destinations[0].url)",
    ],
    "version-float.yaml": [
        ":1:10: error: Input should be 1 (version)",
    ],
    "version-true.yaml": [
        ":1:10: error: Input should be 1 (version)",
    ],
    "yaml-syntax.yaml": [
        ":10:8: error: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'",
    ],
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(CASES)
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    monkeypatch.delenv("WEBHOOKCTL_TEST_UNSET_KEY", raising=False)
    result = CliRunner().invoke(cli, ["validate", "-c", case])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [case + rest for rest in CASES[case]]


VALID = (FIXTURES / "wrong-version.yaml").read_text().replace("version: 2", "version: 1")


def _special(tmp_path: Path, kind: str) -> Path:
    """A path that is no regular file: a device, a pipe, a link to nothing, a loop of links."""
    if kind == "device":
        return Path("/dev/null")
    path = tmp_path / f"{kind}.yaml"
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere.yaml")
    else:
        path.symlink_to(tmp_path / "loop-b.yaml")
        (tmp_path / "loop-b.yaml").symlink_to(path)
    return path


@pytest.mark.parametrize(("kind", "message"), [
    ("device", "configuration file is not a regular file (a device, pipe or socket)"),
    ("pipe", "configuration file is not a regular file (a device, pipe or socket)"),
    ("dangling", "configuration file not found (a symbolic link to nothing)"),
    ("loop", "configuration file is a loop of symbolic links"),
])
def test_a_path_that_is_no_file_says_what_it_is(tmp_path: Path, kind: str, message: str) -> None:
    path = _special(tmp_path, kind)
    result = CliRunner().invoke(cli, ["validate", "-c", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{path}:1:1: error: {message}"]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "a.yaml")
    result = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "a.yaml"), "-c", str(tmp_path / "link.yaml"),
                                      "-c", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Configuration valid: 1 file, 1 provider, 1 destination." in result.stdout


def test_a_url_from_an_unresolved_reference_is_not_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("https://orders.example.com/hook", "${HOOK_URL}"))
    monkeypatch.delenv("HOOK_URL", raising=False)
    assert CliRunner().invoke(cli, ["validate", "--no-env", "-c", str(tmp_path / "a.yaml")]).exit_code == 0
    unset = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "a.yaml")])
    assert unset.exit_code == 1
    assert unset.stdout.splitlines() == [f"{tmp_path / 'a.yaml'}:10:10: error: environment variable HOOK_URL is not set "
                                         "(destinations[0].url)"]


@pytest.mark.parametrize(("backend", "limit"), [("vault", 512), ("aws-secretsmanager", 2048)])
def test_a_url_longer_than_the_backend_keeps_is_refused(tmp_path: Path, backend: str, limit: int) -> None:
    url = "https://orders.example.com/hook?q=" + "a" * limit
    (tmp_path / "a.yaml").write_text(VALID.replace("https://orders.example.com/hook", url)
                                     + f"secrets: {{backend: {backend}}}\n")
    result = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "a.yaml")])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'a.yaml'}:10:10: error: url is longer than {limit} characters, the most the {backend} backend "
        "keeps in a record's metadata (destinations[0].url)"]
