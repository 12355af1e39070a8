"""Names that become paths, and the key template that makes them keys: safe by construction.

Provider and destination names end up as path segments (the `file` backend
writes `<directory>/<key>.json` and `<directory>/<key>.meta.json`), so both
follow one rule, `NAME_RULE`:

- letters, digits, `_`, `-` and `.`; starting with a letter or a digit;
- at most 100 characters; no `..` anywhere;
- not ending in `.meta`, `.json` or `.tmp` (any case), the suffixes the `file`
  backend adds, so no record can land on another's metadata or temporary file.

`secrets.key_template` must use `{provider}` and `{name}`, each once and in that
order, in different `/`-separated segments (so different pairs give different
keys), no other field, format spec or conversion, and balanced braces; it is
relative (no leading `/`), with no empty, `.` or `..` segment and no backslash
or control character. With the `file` backend, the text after `{name}` must not
let a key end in `.meta` either.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any

from webhookctl.config import models
from webhookctl.config.problems import Location, Path_, Problem
from webhookctl.config.yamlsource import SourceMap

NAME_RULE = ("letters, digits, '_', '-' and '.', starting with a letter or digit, at most 100 characters, "
             "without '..' and not ending in '.meta', '.json' or '.tmp'")
NAME_PATTERN = re.compile(
    r"(?!.*\.\.)(?!.*\.(?i:meta|json|tmp)\Z)[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z"
)
RESERVED_SUFFIX = ".meta"  # the file backend's metadata sits at `<key>.meta.json`
MAX_TEMPLATE_CHARS = 200
_FIELDS = ("provider", "name")
_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")


def name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return f"{_shown(name)} is not a valid name: use {NAME_RULE}"
    return None


def key_template_problem(template: str, backend: str) -> str | None:
    """Why `template` cannot safely name one record per (provider, name), or None."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return f"key_template is longer than {MAX_TEMPLATE_CHARS} characters"
    if _BAD_CHARACTER.search(template):
        return "key_template must not contain backslashes or control characters"
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"key_template is not a valid template ({error}); write a literal brace as {{{{ or }}}}"
    fields: list[str] = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in _FIELDS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            return f"key_template may only use {{provider}} and {{name}}, not {shown}"
        fields.append(field)
    if fields != list(_FIELDS):
        return "key_template must use {provider} and then {name}, each exactly once"
    if template.startswith("/"):
        return "key_template must be relative (no leading '/')"
    segments = template.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "key_template must not have empty, '.' or '..' segments"
    if any("{provider}" in segment and "{name}" in segment for segment in segments):
        return "key_template must put {provider} and {name} in different '/'-separated segments"
    tail = template.rsplit("{name}", 1)[1]
    # A key `k` collides with the metadata of `m` when k == m + ".meta"; both end in `tail`.
    if backend == "file" and tail and (tail + RESERVED_SUFFIX).endswith(tail):
        return f"key_template must not end in {tail!r}: a record could land on another's metadata file"
    return None


def directory_problem(directory: str) -> str | None:
    if not directory.strip():
        return "directory must not be empty (write '.' for the working directory)"
    if "\x00" in directory:
        return "directory must not contain a NUL character"
    return None


def name_problems(
    parsed: models.ConfigFileBase, source: SourceMap, indices: list[int]
) -> list[Problem]:
    """Names of providers and destinations, and the secrets settings that turn them into keys."""
    problems: list[Problem] = []
    providers: dict[str, Any] = getattr(parsed, "providers", {})
    for name in providers:
        problem = name_problem(name)
        if problem:
            problems.append(Problem(source.key(("providers", name)), f"provider {problem}", ("providers", name)))
    problems += _case_collisions(
        "provider", ((name, ("providers", name), source.key(("providers", name))) for name in providers)
    )
    destinations = [(d.name, ("destinations", i, "name")) for i, d in zip(indices, getattr(parsed, "destinations", []), strict=True)]
    for name, path in destinations:
        problem = name_problem(name)
        if problem:
            problems.append(Problem(source.value(path), f"destination {problem}", path))
    problems += _case_collisions("destination", ((name, path, source.value(path)) for name, path in destinations))
    secrets = parsed.secrets
    if secrets is not None:
        template_problem = key_template_problem(secrets.key_template, secrets.backend)
        if template_problem:
            problems.append(Problem(source.value(("secrets", "key_template")), template_problem, ("secrets", "key_template")))
        if isinstance(secrets, models.FileSecrets):
            problem = directory_problem(secrets.directory)
            if problem:
                problems.append(Problem(source.value(("secrets", "directory")), problem, ("secrets", "directory")))
    return problems


def _case_collisions(kind: str, entries: Iterable[tuple[str, Path_, Location]]) -> list[Problem]:
    """Names equal but for case share a file on case-insensitive file systems (macOS, Windows)."""
    problems: list[Problem] = []
    seen: dict[str, tuple[str, Location]] = {}
    for name, path, here in entries:
        folded = name.casefold()
        first = seen.get(folded)
        if first is not None and first[0] != name:
            problems.append(Problem(here, f"{kind} name {name!r} differs only in case from {first[0]!r} "
                                          f"at {first[1]}; they would share files on some systems", path))
        seen.setdefault(folded, (name, here))
    return problems


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
