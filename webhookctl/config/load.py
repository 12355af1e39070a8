"""Find, read, merge and validate configuration files.

Reading never stops at the first problem: every problem in every file is
collected, located, and raised together as one `ConfigError`.

Top-level keys starting with `x-` are ignored: they are where YAML anchors
shared through merge keys live (`x-amigo: &amigo {...}`, then `<<: *amigo`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from webhookctl.config import models
from webhookctl.config.checks import semantic_problems
from webhookctl.config.desired import Config
from webhookctl.config.environment import interpolate
from webhookctl.config.problems import Location, Path_, Problem
from webhookctl.config.yamlsource import NoPositions, SourceMap, load_yaml
from webhookctl.errors import ConfigError
from webhookctl.extras import missing_extra
from webhookctl.vendors import registry

DEFAULT_FILE = "webhookctl.yaml"
# Larger files are refused unread: every file up to this size is checked in bounded time and memory.
MAX_FILE_BYTES = 10 * 1024 * 1024
EXTENSION_PREFIX = "x-"
SECTIONS = ("secrets", "defaults", "settings")


def config_paths(given: Sequence[str | Path], environ: Mapping[str, str]) -> list[Path]:
    """-c/--config, else WEBHOOKCTL_CONFIG (os.pathsep-separated), else ./webhookctl.yaml."""
    if given:
        return [Path(p) for p in given]
    if environ.get("WEBHOOKCTL_CONFIG"):
        return [Path(p) for p in environ["WEBHOOKCTL_CONFIG"].split(os.pathsep) if p]
    return [Path(DEFAULT_FILE)]


def expand(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """The configuration files `paths` name (a directory's *.yaml and *.yml files), each once however
    often it is named (a file and a link to it, a file inside a directory also given)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml") and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                problems.append(Problem(Location(str(path), 1, 1), "no *.yaml or *.yml files in this directory"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(Location(str(path), 1, 1), _not_a_file(path)))
    unique: list[Path] = []
    seen: set[Path] = set()
    for file in files:
        real = file.resolve()
        if real not in seen:
            seen.add(real)
            unique.append(file)
    return unique, problems


def _not_a_file(path: Path) -> str:
    """Why `path`, which is neither a directory nor a regular file, cannot be read as configuration."""
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "configuration file is a loop of symbolic links"
        if path.is_symlink():
            return "configuration file not found (a symbolic link to nothing)"
        return "configuration file not found"
    return "configuration file is not a regular file (a device, pipe or socket)"


def load_config(
    paths: Sequence[str | Path] = (),
    environ: Mapping[str, str] | None = None,
    *,
    require_env: bool = True,
    check_extras: bool = False,
) -> Config:
    """The merged, checked configuration, or ConfigError with every located problem.

    `check_extras` (validate) also reports a secrets backend whose extra is not installed; the
    commands that use the backend say so in one line when they open it.

    The files are read twice only when they have a problem: first without a source map (the
    position of every key and value, ~60% of reading's memory), which a valid configuration never
    consults; then, to locate the problems, with one. A file the first reading refused as a whole
    is not read again: the reader locates its problems itself.
    """
    environ = os.environ if environ is None else environ
    files, problems = expand(config_paths(paths, environ))
    refused: dict[Path, list[Problem]] = {}
    try:
        return _load(files, list(problems), environ, require_env, check_extras, refused, positions=False)
    except ConfigError:
        pass
    return _load(files, problems, environ, require_env, check_extras, refused, positions=True)


def _load(
    files: list[Path],
    problems: list[Problem],
    environ: Mapping[str, str],
    require_env: bool,
    check_extras: bool,
    refused: dict[Path, list[Problem]],
    positions: bool,
) -> Config:
    merged: dict[str, Any] = {"providers": {}, "destinations": []}
    source = SourceMap() if positions else NoPositions()
    origins: dict[tuple[str, str], Location] = {}
    references: dict[Path_, list[str]] = {}
    for file in files:
        problems += _load_file(file, merged, source, origins, references, environ, require_env, refused, positions)
    if not files:
        raise ConfigError(problems)
    if not source.values:
        source.set_value((), str(files[0]), 1, 1)
    parsed, indices, model_problems = _validate(merged, source)
    if "version" not in merged and not problems:
        problems.append(Problem(Location(str(files[0]), 1, 1), "missing 'version: 1' (in at least one file)", ("version",)))
    problems += model_problems
    config = None
    if parsed is not None:
        failed = _failed_providers(merged, parsed)
        del merged  # the raw documents: validated, and (with positions) no longer needed to describe a problem
        config, check_problems = semantic_problems(parsed, source, [str(f) for f in files], indices, failed)
        problems += check_problems
    if check_extras:  # this machine's installed extras
        problems += missing_extras(parsed, source)
    if problems or config is None:
        raise ConfigError(sorted(set(problems), key=lambda p: (p.location, p.message)))
    return replace(config, env_references=_provider_references(references))


def _load_file(
    file: Path,
    merged: dict[str, Any],
    source: SourceMap,
    origins: dict[tuple[str, str], Location],
    references: dict[Path_, list[str]],
    environ: Mapping[str, str],
    require_env: bool,
    refused: dict[Path, list[Problem]],
    positions: bool,
) -> list[Problem]:
    """Read one file and merge it into `merged` (its own document is dropped on return)."""
    if file in refused:
        return refused[file]
    text, read_problem = _read(file)
    if text is None:
        return [read_problem or Problem(Location(str(file), 1, 1), "cannot read")]
    document, file_source, problems = load_yaml(text, str(file), positions)
    del text
    if document is None:
        refused[file] = problems
        return problems
    if not isinstance(document, dict):
        return [*problems, Problem(file_source.value(()), "a configuration file must be a mapping of keys")]
    document = {k: v for k, v in document.items() if not str(k).startswith(EXTENSION_PREFIX)}
    document, env_problems = interpolate(document, file_source, environ, require_env, references)
    problems += env_problems
    problems += _merge(merged, document, file_source, source, origins)
    return problems


def missing_extras(parsed: models.ConfigFileBase | None, source: SourceMap) -> list[Problem]:
    """The secrets backend chosen needs a package that is not installed."""
    secrets = getattr(parsed, "secrets", None)
    message = missing_extra(str(getattr(secrets, "backend", "file")))
    if message is None:
        return []
    return [Problem(source.value(("secrets", "backend")), message, ("secrets", "backend"))]


def _provider_references(references: dict[Path_, list[str]]) -> dict[str, list[str]]:
    by_provider: dict[str, list[str]] = {}
    for path, names in references.items():
        if len(path) > 1 and path[0] == "providers":
            found = by_provider.setdefault(str(path[1]), [])
            found += [name for name in names if name not in found]
    return by_provider


def _read(file: Path) -> tuple[str | None, Problem | None]:
    """The file's text, or the problem that stops it being read (located at the undecodable byte)."""
    start = Location(str(file), 1, 1)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, Problem(start, f"file too large: {size:,} bytes, at most {MAX_FILE_BYTES:,} are read")
        data = file.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as error:
        return None, Problem(start, f"cannot read: {error.strerror or type(error).__name__}")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start:error.start].decode("utf-8", errors="replace")) + 1
        return None, Problem(Location(str(file), line, column),
                             f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded")


def _failed_providers(merged: dict[str, Any], parsed: models.ConfigFileBase) -> set[str]:
    raw = merged.get("providers")
    valid = getattr(parsed, "providers", {})
    return {str(name) for name in raw if name not in valid} if isinstance(raw, dict) else set()


def _merge(
    merged: dict[str, Any],
    document: dict[str, Any],
    file_source: SourceMap,
    source: SourceMap,
    origins: dict[tuple[str, str], Location],
) -> list[Problem]:
    problems: list[Problem] = []
    remap: dict[Path_, Path_] = {}

    def once(kind: str, key: str, path: Path_) -> bool:
        here = file_source.key(path)
        first = origins.get((kind, key))
        if first is not None:
            problems.append(Problem(here, f"{_describe(kind, key)} is already defined at {first}", path))
            return False
        origins[(kind, key)] = here
        return True

    for key, value in document.items():
        if key == "providers" and isinstance(value, dict):
            for name, provider in value.items():
                if once("provider", str(name), ("providers", name)):
                    merged["providers"][name] = provider
        elif key == "destinations" and isinstance(value, list):
            for index, destination in enumerate(value):
                remap[("destinations", index)] = ("destinations", len(merged["destinations"]))
                merged["destinations"].append(destination)
        elif key == "version":
            merged.setdefault("version", value)
            if merged["version"] != value:
                problems.append(Problem(file_source.value(("version",)), "all files must have the same version", ("version",)))
        elif key in merged and key in SECTIONS:
            once("section", str(key), (key,))
        else:
            if key in SECTIONS:
                once("section", str(key), (key,))
            merged[key] = value
    source.update(file_source, remap)
    return problems


def _describe(kind: str, key: str) -> str:
    return f"provider {key!r}" if kind == "provider" else f"section {key!r}"


def _strip_tag(loc: Sequence[str | int]) -> Path_:
    """Drop the discriminator pydantic puts in union locations (providers.x.amigo.auth, secrets.vault.mount)."""
    path = tuple(loc)
    if len(path) > 2 and path[0] == "providers" and path[2] in registry():
        path = path[:2] + path[3:]
    if len(path) > 1 and path[0] == "secrets" and path[1] in _SECRETS_MODELS:
        path = path[:1] + path[2:]
    return path


def _nested_model(model: type[BaseModel], field: str) -> type[BaseModel] | None:
    """The model of `model.field` when that field holds a mapping validated by a model."""
    info = model.model_fields.get(field)
    if info is None:
        return None
    for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _model_at(document: Any, path: Path_) -> type[BaseModel] | None:
    """The model that validates the mapping at `path`, to suggest its keys."""
    if not path:
        return models.config_file_model()
    head, rest = path[0], path[1:]
    value = document.get(head) if isinstance(document, dict) else None
    if head == "providers":
        if not rest:
            return None
        entry = value.get(rest[0]) if isinstance(value, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        vendor = registry().get(str(kind))
        return _descend(vendor.config_model, entry, rest[1:]) if vendor else None
    if head == "destinations":
        if not rest:
            return None
        position = int(rest[0])
        entry = value[position] if isinstance(value, list) and len(value) > position else None
        return _descend(models.destination_model(), entry, rest[1:])
    if head == "secrets":
        backend = str(value.get("backend", "file")) if isinstance(value, dict) else "file"
        model = _SECRETS_MODELS.get(backend)
        return _descend(model, value, rest) if model else None
    if head == "defaults":
        return _descend(models.defaults_model(), value, rest)
    if head == "settings":
        return _descend(models.Settings, value, rest)
    return None


def _descend(model: type[BaseModel], value: Any, path: Path_) -> type[BaseModel] | None:
    for part in path:
        nested = _nested_model(model, str(part))
        if nested is None:
            return None
        model, value = nested, value.get(part) if isinstance(value, dict) else None
    return model


def _validate(
    document: dict[str, Any], source: SourceMap
) -> tuple[models.ConfigFileBase | None, list[int], list[Problem]]:
    """Validate each provider and destination on its own, so one bad entry hides nothing else."""
    problems: list[Problem] = []
    top = {k: v for k, v in document.items() if k not in ("providers", "destinations")}
    parsed_top = _checked(models.config_file_model(), top, (), document, source, problems)
    providers: dict[str, Any] = {}
    raw_providers = document.get("providers") or {}
    for name, raw in (raw_providers.items() if isinstance(raw_providers, dict) else []):
        provider = _checked(models.provider_adapter(), raw, ("providers", name), document, source, problems)
        providers[name] = provider
    destinations = []
    indices: list[int] = []
    raw_destinations = document.get("destinations") or []
    for index, raw in enumerate(raw_destinations if isinstance(raw_destinations, list) else []):
        destination = _checked(models.destination_model(), raw, ("destinations", index), document, source,
                               problems)
        # Validated (and any problem described): the raw entry is not needed again, and 10,000 of them
        # held next to their models were ~6 MB.
        raw_destinations[index] = None
        if destination is not None and destination.provider in providers and providers[destination.provider] is None:
            continue  # its provider is already reported
        if destination is not None:
            destinations.append(destination)
            indices.append(index)
    if parsed_top is None:
        return None, indices, problems
    valid_providers = {name: provider for name, provider in providers.items() if provider is not None}
    parsed = parsed_top.model_copy(update={"providers": valid_providers, "destinations": destinations})
    return parsed, indices, problems


_SECRETS_MODELS: dict[str, Any] = {
    "file": models.FileSecrets, "vault": models.VaultSecrets, "aws-secretsmanager": models.AwsSecrets,
    "sops": models.SopsSecrets, "exec": models.ExecSecrets,
}


def _checked(
    model: Any, raw: Any, prefix: Path_, document: Any, source: SourceMap, problems: list[Problem]
) -> Any:
    try:
        return model.validate_python(raw) if isinstance(model, TypeAdapter) else model.model_validate(raw)
    except ValidationError as error:
        for item in error.errors(include_input=False, include_url=False):
            problems.append(_problem((*prefix, *item["loc"]), item["type"], str(item["msg"]), document, source))
        return None


def _problem(loc: Path_, kind: str, message: str, document: Any, source: SourceMap) -> Problem:
    path = _strip_tag(loc)
    if kind == "extra_forbidden":
        model = _model_at(document, path[:-1])
        key = str(path[-1])
        message = f"unknown key {key!r}"
        if model is not None:
            import difflib  # only for an unknown key: a valid configuration never needs it

            close = difflib.get_close_matches(key, list(model.model_fields), n=1)
            message += f", did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(model.model_fields)}"
        return Problem(source.key(path), message, path)
    if kind == "missing":
        return Problem(source.value(path[:-1]), f"missing required key {str(path[-1])!r}", path)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        if path[:1] == ("secrets",):
            names = ", ".join(repr(n) for n in _SECRETS_MODELS)
            return Problem(source.value((*path, "backend")), f"secrets 'backend' must be one of {names}",
                           (*path, "backend"))
        kinds = ", ".join(repr(kind) for kind in registry())
        return Problem(source.value((*path, "type")), f"provider 'type' must be one of {kinds}", (*path, "type"))
    message = message.removeprefix("Value error, ")
    if kind == "string_type" and isinstance(_value_at(document, path), bool):
        message += " (YAML reads a bare yes, no, on, off, true or false as a boolean: quote it)"
    return Problem(source.value(path), message, path)


def _value_at(document: Any, path: Path_) -> Any:
    """The raw value at `path`, or None when there is none."""
    for part in path:
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and isinstance(part, int) and 0 <= part < len(document):
            document = document[part]
        else:
            return None
    return document
