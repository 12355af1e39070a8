"""Loading, merging and validating configuration; the schema; the validate command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from webhookctl.cli import cli
from webhookctl.cli.schema import schema_text
from webhookctl.config.load import load_config
from webhookctl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
# Configuration files only: not the kit's workflows or pre-commit settings (dot-named).
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.yaml")
                  if not any(part.startswith(".") for part in p.relative_to(ROOT).parts))


def test_checked_in_schema_is_current() -> None:
    checked_in = (ROOT / "schemas" / "webhookctl.schema.json").read_text()
    assert checked_in == schema_text(), "run: webhookctl schema > schemas/webhookctl.schema.json"


def test_checked_in_plan_schema_is_current() -> None:
    checked_in = (ROOT / "schemas" / "plan.schema.json").read_text()
    assert checked_in == schema_text(plan=True), "run: webhookctl schema --plan > schemas/plan.schema.json"


def test_schema_command_prints_the_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "webhookctl configuration"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_pass_the_json_schema_and_name_it(path: Path) -> None:
    schema = json.loads((ROOT / "schemas" / "webhookctl.schema.json").read_text())
    Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))
    first = path.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    named = (path.parent / first.split("$schema=")[1]).resolve()
    kit = ROOT / "examples" / "gitops"
    if kit in path.parents:
        # The kit carries its own copy, so the path stays valid once the kit is copied to a repository.
        assert named == kit / "schemas" / "webhookctl.schema.json"
        assert named.read_text() == (ROOT / "schemas" / "webhookctl.schema.json").read_text(), \
            "run: cp schemas/webhookctl.schema.json examples/gitops/schemas/"
    else:
        assert named == ROOT / "schemas" / "webhookctl.schema.json"


@pytest.mark.parametrize("example", ["quickstart", "single-file", "multi-org", "gitops/webhooks"])
def test_examples_validate(example: str) -> None:
    result = CliRunner().invoke(cli, ["validate", "--no-env", "-c", str(ROOT / "examples" / example)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Configuration valid:")


def test_multi_org_example_merges_every_file() -> None:
    config = load_config([ROOT / "examples" / "multi-org"], require_env=False)
    assert sorted(config.providers) == ["acme", "globex", "initech-kyc"]
    assert [d.name for d in config.for_provider("acme")] == ["acme-orders", "acme-resources"]
    assert config.settings.max_deletes == 3
    # defaults apply unless a destination sets its own
    globex = config.destination("globex-insights")
    assert globex is not None and globex.rotation_max_age is not None and globex.rotation_max_age.days == 30
    orders = config.destination("acme-orders")
    assert orders is not None and orders.fields == {
        "accepted_types": ["conversation-post-processing-complete"], "retry_attempts": 3}
    assert orders.rotation_max_age is not None and orders.rotation_max_age.days == 60


MINIMAL = """\
version: 1
providers:
  prod:
    type: amigo
    organization: acme
    auth: {api_key: "${SECRET_KEY}", api_key_id: kid, user_id: u1}
destinations:
  - name: orders
    provider: prod
    url: https://orders.example.com/hook
    accepted_types: [conversation-post-processing-complete]
"""


def test_environment_references_resolve(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(MINIMAL)
    config = load_config([tmp_path / "c.yaml"], {"SECRET_KEY": "s3cr3t-value"})
    provider = config.providers["prod"]
    assert provider.auth.api_key == "s3cr3t-value"  # type: ignore[union-attr]


def test_environment_values_never_appear_in_errors(tmp_path: Path) -> None:
    broken = MINIMAL.replace("user_id: u1}", "user_id: u1, scheme: \"${SECRET_KEY}\"}")
    (tmp_path / "c.yaml").write_text(broken)
    with pytest.raises(ConfigError) as raised:
        load_config([tmp_path / "c.yaml"], {"SECRET_KEY": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(raised.value)
    assert "c.yaml:6:" in str(raised.value)


def test_dollar_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("${SECRET_KEY}", "a$$b"))
    config = load_config([tmp_path / "c.yaml"], {})
    assert config.providers["prod"].auth.api_key == "a$b"  # type: ignore[union-attr]


def test_defaults_in_references(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("organization: acme", "organization: ${ORG:-acme-default}"))
    assert load_config([tmp_path / "c.yaml"], {"SECRET_KEY": "k"}).providers["prod"].organization == "acme-default"  # type: ignore[union-attr]
    assert load_config([tmp_path / "c.yaml"], {"SECRET_KEY": "k", "ORG": ""}).providers["prod"].organization == "acme-default"  # type: ignore[union-attr]
    assert load_config([tmp_path / "c.yaml"], {"SECRET_KEY": "k", "ORG": "x"}).providers["prod"].organization == "x"  # type: ignore[union-attr]


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "webhookctl.yaml").write_text(MINIMAL)
    other = tmp_path / "other.yaml"
    other.write_text(MINIMAL.replace("orders", "billing"))
    env = {"SECRET_KEY": "x"}
    assert load_config([], env).destinations[0].name == "orders"
    assert load_config([], {**env, "WEBHOOKCTL_CONFIG": str(other)}).destinations[0].name == "billing"
    assert load_config([str(tmp_path / "webhookctl.yaml")], {**env, "WEBHOOKCTL_CONFIG": str(other)}
                       ).destinations[0].name == "orders"


def test_missing_default_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBHOOKCTL_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1
    assert result.stdout == "webhookctl.yaml:1:1: error: configuration file not found\n"


def test_every_problem_in_every_file_is_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("https://orders", "http://orders"))
    (tmp_path / "b.yaml").write_text("destinations:\n  - name: x\n    provider: nope\n    url: https://x.example\n"
                                     "    accepted_types: [conversation-post-processing-complete]\n    colour: red\n")
    result = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path)], env={"SECRET_KEY": "v"})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/a.yaml:10:10: error: url must use https, not 'http' (destinations[0].url)",
        f"{tmp_path}/b.yaml:6:5: error: unknown key 'colour'; expected one of name, provider, url, accepted_types, "
        "retry_attempts, events, enabled, rotation, protect (destinations[1].colour)",
    ]
    assert result.stderr == "2 problems in 2 files\n"


def test_formats(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("  - name: orders", "  - name: orders\n    retry_attempts: 9"))
    runner = CliRunner()
    github = runner.invoke(cli, ["validate", "--format", "github", "-c", str(tmp_path / "c.yaml")], env={"SECRET_KEY": "v"})
    assert github.exit_code == 1
    assert github.stdout == (
        f"::error file={tmp_path}/c.yaml,line=9,col=21,title=webhookctl::"
        "Input should be less than or equal to 5 (destinations[0].retry_attempts)\n"
    )
    as_json = runner.invoke(cli, ["validate", "--format", "json", "-c", str(tmp_path / "c.yaml")], env={"SECRET_KEY": "v"})
    assert json.loads(as_json.stdout) == {"format_version": 1, "valid": False, "problems": [{
        "file": f"{tmp_path}/c.yaml", "line": 9, "column": 21,
        "message": "Input should be less than or equal to 5", "field": "destinations[0].retry_attempts"}]}
    (tmp_path / "c.yaml").write_text(MINIMAL)
    ok = runner.invoke(cli, ["validate", "--format", "json", "-c", str(tmp_path / "c.yaml")], env={"SECRET_KEY": "v"})
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["valid"] is True
