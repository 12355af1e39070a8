"""`${ENV_VAR}` references, resolved from the environment only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from webhookctl.config.problems import Path_, Problem
from webhookctl.config.yamlsource import SourceMap

REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?")


def interpolate(
    document: Any, source: SourceMap, environ: Mapping[str, str], require: bool = True,
    references: dict[Path_, list[str]] | None = None,
) -> tuple[Any, list[Problem]]:
    """Replace references in every string; `${NAME:-default}` when unset or empty; `$$` is a literal `$`.

    With `require=False` an unset variable is left as written (for `validate
    --no-env`); its syntax is still checked. Values never appear in problems.
    `references`, when given, gets the names of the variables used at each path.
    """
    problems: list[Problem] = []

    def walk(value: Any, path: Path_) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*path, index)) for index, item in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if name is None:
                problems.append(Problem(source.value(path), f"invalid reference {match.group(0)!r}: use ${{NAME}}", path))
                return match.group(0)
            if references is not None:
                references.setdefault(path, []).append(name)
            if default is not None:
                return environ.get(name) or default
            if name in environ:
                return environ[name]
            if require:
                problems.append(Problem(source.value(path), f"environment variable {name} is not set", path))
            return match.group(0)

        return REFERENCE.sub(substitute, value)

    return walk(document, ()), problems
