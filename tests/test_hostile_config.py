"""Hostile configurations through `webhookctl validate`: exit 0 or 1, no traceback, every problem located.

One fixture per family of hostile input (tests/fixtures/hostile/), each with the
line, column and the start of the message expected; then a property test that
mutates valid configurations (byte flips, indentation, aliases, tags, control
characters) and holds every result to the same promise.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from webhookctl.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
EXAMPLES = Path(__file__).parent.parent / "examples"
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): error: (?P<message>\S.*)$")

# `<line>:<column>: <start of the message>` for each problem, in order.
CASES: dict[str, list[str]] = {
    "alias-bomb.yaml": ["7:34: document too large: more than 500,000 nodes"],
    "alias-recursive.yaml": ["13:12: alias *loop is recursive"],
    "alias-undefined.yaml": ["12:21: alias *three refers to no anchor"],
    "base-url-ipv6-unclosed.yaml": ["6:15: base_url is malformed: Invalid IPv6 URL (providers.prod.base_url)"],
    "bool-not-a-bool.yaml": ["12:14: 'maybe' is not a valid !!bool (destinations[0].protect)"],
    "control-after-crlf.yaml": ["12:12: invalid YAML: character U+0007 is not allowed"],
    "control-escape.yaml": ["10:37: invalid YAML: character U+001B is not allowed"],
    "control-nul.yaml": ["8:14: invalid YAML: character U+0000 is not allowed"],
    "date-impossible.yaml": ["12:25: invalid duration '2023-02-29'"],
    "destination-name-case.yaml": ["12:11: destination name 'Orders' differs only in case from 'orders'"],
    "destination-name-dotdot.yaml": ["8:11: destination 'orders..eu' is not a valid name"],
    "destination-name-meta.yaml": ["12:11: destination 'orders.meta' is not a valid name"],
    "directory-empty.yaml": ["7:37: directory must not be empty"],
    "duration-malformed.yaml": ["12:25: invalid duration '1d1'"],
    "duration-overflow.yaml": ["12:25: duration '99999999999999999999d' is too long"],
    "int-not-an-int.yaml": ["12:21: 'abc' is not a valid !!int (destinations[0].retry_attempts)"],
    "int-too-long.yaml": ["12:21: number too long: more than 4300 characters"],
    "invalid-utf8.yaml": ["8:14: not UTF-8 text: byte 0xe9 cannot be decoded"],
    "key-template-absolute.yaml": ["7:40: key_template must be relative"],
    "key-template-dotdot.yaml": ["7:40: key_template must not have empty, '.' or '..' segments"],
    "key-template-empty-segment.yaml": ["7:40: key_template must not have empty, '.' or '..' segments"],
    "key-template-format-spec.yaml": ["7:40: key_template may only use {provider} and {name}, not {name!r}"],
    "key-template-meta-tail.yaml": ["7:40: key_template must not end in '.meta'"],
    "key-template-no-name.yaml": ["7:40: key_template must use {provider} and then {name}, each exactly once"],
    "key-template-org.yaml": ["7:40: key_template may only use {provider} and {name}, not {org}"],
    "key-template-positional.yaml": ["7:40: key_template may only use {provider} and {name}, not {0}"],
    "key-template-same-segment.yaml": ["7:40: key_template must put {provider} and {name} in different"],
    "key-template-unbalanced.yaml": ["7:40: key_template is not a valid template"],
    "merge-bomb.yaml": ["7:26: document too large: more than 500,000 nodes"],
    "merge-key-not-mapping.yaml": ["8:10: a merge key (<<) takes a mapping or a list of mappings"],
    # The merged value is at fault where the anchor defines it.
    "merge-keys-bad-value.yaml": ["10:19: Input should be less than or equal to 5 (destinations[0].retry_attempts)"],
    "merge-keys-valid.yaml": [],
    "nesting-deep-flow.yaml": ["2:1008: invalid YAML: while increasing flow level exceeded maximum nesting depth"],
    "nesting-deep.yaml": ["102:201: nesting too deep: more than 100 levels"],
    "non-string-key.yaml": ["12:5: mapping keys must be strings (quote 'null'", "13:5: mapping keys must be strings"],
    "provider-name-traversal.yaml": ["3:3: provider '../../../x' is not a valid name"],
    "tag-binary.yaml": ["8:11: tag '!!binary' is not allowed on a scalar"],
    "tag-directive.yaml": ["1:1: %TAG directives are not allowed",
                           "10:11: tag 'tag:example.com,2000:orders' is not allowed on a scalar"],
    "tag-local.yaml": ["10:10: tag '!secret' is not allowed on a scalar"],
    "tag-python.yaml": ["12:14: tag '!!python/object/apply:os.system' is not allowed on a sequence"],
    "two-documents.yaml": ["7:1: invalid YAML: a configuration file holds one document"],
    "url-ipv6-unclosed.yaml": ["10:10: url is malformed: Invalid IPv6 URL (destinations[0].url)"],
    "url-port-out-of-range.yaml": ["10:10: url is malformed: Port out of range"],
    "url-space.yaml": ["10:10: url must not contain spaces or control characters"],
}


def _validate(path: Path, *options: str) -> Result:
    return CliRunner().invoke(cli, ["validate", "-c", str(path), "--no-env", *options])


def _assert_well_behaved(result: Result, path: Path) -> list[re.Match[str]]:
    """Exit 0 or 1, no traceback, and every stdout line a problem located inside `path`."""
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert result.stdout.startswith("Configuration valid:")
        return []
    lines = result.stdout.splitlines()
    assert lines, "exit 1 without a problem"
    matches = []
    text = path.read_bytes()
    last_line = text.count(b"\n") + text.count(b"\r") + 2  # generous: CR, CRLF and NEL all break lines
    for line in lines:
        match = LOCATED.match(line)
        assert match, f"unlocated line: {line!r}"
        assert match["file"] == str(path)
        assert 1 <= int(match["line"]) <= last_line and int(match["column"]) >= 1
        matches.append(match)
    return matches


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_fixture(case: str) -> None:
    path = FIXTURES / case
    result = _validate(path)
    matches = _assert_well_behaved(result, path)
    assert result.exit_code == (1 if CASES[case] else 0)
    found = [f"{m['line']}:{m['column']}: {m['message']}" for m in matches]
    assert len(found) == len(CASES[case]), found
    for line, expected in zip(found, CASES[case], strict=True):
        assert line.startswith(expected), (line, expected)


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_hostile_fixture_other_formats(fmt: str) -> None:
    """The machine formats carry the same locations and never a traceback."""
    for case in ("control-nul.yaml", "alias-bomb.yaml", "tag-python.yaml"):
        result = _validate(FIXTURES / case, "--format", fmt)
        assert result.exit_code == 1 and "Traceback" not in result.output
        line, column = CASES[case][0].split(":")[:2]
        assert (f'"line": {line}' in result.stdout and f'"column": {column}' in result.stdout) if fmt == "json" \
            else f"line={line},col={column}," in result.stdout


# -- mutations of valid configurations --------------------------------------------

BASES = [
    (EXAMPLES / "single-file" / "webhookctl.yaml").read_text(encoding="utf-8"),
    (FIXTURES / "merge-keys-valid.yaml").read_text(encoding="utf-8"),
]
INSERTS = [
    "*a", "&a ", "&a x", "<<: *a", "<<: ", "!foo ", "!!python/object:os.system ", "!!int ", "!!float ", "!!bool ",
    "!!binary ", "!!set ", "%TAG !e! tag:e.com,2000:\n---\n", "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028",
    "\ufeff", "\r", "\t", "{", "}", "[", "]", ": ", "- ", "? ", "|", ">", "'", '"', "#", "---\n", "...\n",
    "9" * 5000, "2023-02-29", "99999999999999999999d", "https://[::1/x", "../", "{name", "}", "${X", "$$",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["flip", "insert", "indent", "dedent", "delete", "anchor-alias"]))
        if kind == "flip" and index < len(text):
            text = text[:index] + chr(draw(st.integers(0, 0x2FF))) + text[index + 1:]
        elif kind == "insert":
            text = text[:index] + draw(st.sampled_from(INSERTS)) + text[index:]
        elif kind in ("indent", "dedent"):
            lines = text.split("\n")
            row = draw(st.integers(0, len(lines) - 1))
            lines[row] = "  " + lines[row] if kind == "indent" else lines[row][2:]
            text = "\n".join(lines)
        elif kind == "delete":
            text = text[:index] + text[index + draw(st.integers(1, 20)):]
        else:
            # An anchor on one value and aliases to it elsewhere: maybe recursive, maybe before it.
            text = text[:index] + "&a " + text[index:]
            spot = draw(st.integers(0, len(text)))
            text = text[:spot] + "*a" + text[spot:]
    return text


@seed(16)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_configurations_are_answered_with_located_problems(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "webhookctl.yaml"
        path.write_text(text, encoding="utf-8", newline="")
        _assert_well_behaved(_validate(path), path)


def test_the_node_budget_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    valid = FIXTURES / "merge-keys-valid.yaml"
    assert _validate(valid).exit_code == 0
    monkeypatch.setenv("WEBHOOKCTL_YAML_MAX_NODES", "20")
    refused = _validate(valid)
    assert refused.exit_code == 1
    assert "document too large: more than 20 nodes once aliases are expanded" in refused.output
    assert "$WEBHOOKCTL_YAML_MAX_NODES" in refused.output
