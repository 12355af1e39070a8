"""YAML read with the position of every key and value, and duplicate keys refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from webhookctl.config.problems import Location, Path_, Problem


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document was written."""

    values: dict[Path_, Location] = field(default_factory=dict)
    keys: dict[Path_, Location] = field(default_factory=dict)

    def value(self, path: Path_) -> Location:
        """The closest known position: the value itself or its nearest ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return next(iter(self.values.values()))

    def key(self, path: Path_) -> Location:
        return self.keys.get(path) or self.value(path)

    def update(self, other: SourceMap, remap: dict[Path_, Path_] | None = None) -> None:
        for source, target in ((other.values, self.values), (other.keys, self.keys)):
            for path, location in source.items():
                target[_remap(path, remap or {})] = location


def _remap(path: Path_, remap: dict[Path_, Path_]) -> Path_:
    """Rewrite a path whose two-element prefix (e.g. ("destinations", 3)) was moved by a merge."""
    replacement = remap.get(path[:2])
    return replacement + path[2:] if replacement is not None else path


# libyaml's parser, where installed, is ~10x faster and reports the same marks.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _location(file: str, node: Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.source = SourceMap()
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()

    def build(self, node: Node, path: Path_) -> Any:
        self.source.values[path] = _location(self.file, node)
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            seen: dict[Any, Location] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, (*path, "<key>"))
                if not isinstance(key, str | int):
                    self.problems.append(Problem(_location(self.file, key_node), "mapping keys must be strings", path))
                    continue
                here = _location(self.file, key_node)
                if key in seen:
                    first = seen[key]
                    self.problems.append(Problem(
                        here, f"duplicate key {key!r} (first defined at line {first.line}, column {first.column})",
                        (*path, key),
                    ))
                    continue
                seen[key] = here
                self.source.keys[(*path, key)] = here
                result[key] = self.build(value_node, (*path, key))
            self.source.values.pop((*path, "<key>"), None)
            return result
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalars.construct_object(node, deep=True)


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """The document, where its parts are, and the problems found while reading it."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        message = " ".join(part for part in (error.context, error.problem) if part)
        return None, SourceMap({(): location}), [Problem(location, f"invalid YAML: {message}")]
    except yaml.YAMLError as error:
        return None, SourceMap({(): Location(file, 1, 1)}), [Problem(Location(file, 1, 1), f"invalid YAML: {error}")]
    if node is None:
        return {}, SourceMap({(): Location(file, 1, 1)}), []
    builder = _Builder(file)
    document = builder.build(node, ())
    return document, builder.source, builder.problems
