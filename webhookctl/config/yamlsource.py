"""YAML read with the position of every key and value, safely, whatever the input.

Reading never raises and never runs away: every problem (syntax, a control
character, a refused tag, a scalar that is not what its tag says, a recursive
alias) is a `Problem` at the line and column of the character or node at
fault. The document is composed from the parser's event stream into small
nodes of our own, so that

- the size of what is read is capped while it is read (`MAX_NODES` nodes per
  file, `MAX_DEPTH` levels of nesting), before it can use much memory;
- expanding aliases and merge keys (`<<: *defaults`) counts against the same
  budget, so a "billion laughs" file is refused after `MAX_NODES` steps;
- only the standard tags are accepted (`!!str`, `!!int`, `!!float`, `!!bool`,
  `!!null`, `!!timestamp`, `!!merge`, `!!seq`, `!!map`); timestamps stay the
  text that was written, since no setting is a date.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from webhookctl.config.problems import Location, Path_, Problem

# Far above any real configuration (one file with 10,000 destinations, what Amigo allows
# 1,000 organisations, is ~115,000 nodes nested 5 deep), low enough that a hostile file is
# refused within the time and memory targets (bench/validate_hostile.py).
MAX_NODES = 500_000
MAX_DEPTH = 100
# The node budget is configurable for the rare configuration larger than MAX_NODES.
NODE_BUDGET_VARIABLE = "WEBHOOKCTL_YAML_MAX_NODES"


def node_budget() -> int:
    """MAX_NODES, or the positive whole number in $WEBHOOKCTL_YAML_MAX_NODES."""
    text = os.environ.get(NODE_BUDGET_VARIABLE, "")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else MAX_NODES
# Python refuses to convert longer decimal integers (sys.int_info.default_max_str_digits);
# the same cap bounds the work of YAML 1.1 base-60 numbers (1:30:00).
MAX_NUMBER_CHARS = 4300
# Control characters are reported one by one, but not thousands of them.
MAX_CHARACTER_PROBLEMS = 10


# A position packed in one int: file index, line, column (24 bits each: a file read is at most
# 10 MB, so neither exceeds 2**24; larger figures are clamped, never wrong by another line's bits).
_BITS = 24
_MASK = (1 << _BITS) - 1


def _pack(file_index: int, line: int, column: int) -> int:
    return (file_index << 2 * _BITS) | (min(line, _MASK) << _BITS) | min(column, _MASK)


class SourceMap:
    """Where each value (and each mapping key) of a document was written.

    One entry per value and key of the configuration (~116,000 per 10,000 destinations), held
    until the checks have run: each position is one packed int, and a `Location` is built only
    when a lookup asks for one (a position object per entry was 3x the memory).
    """

    __slots__ = ("_files", "keys", "values")

    def __init__(self, start: Location | None = None) -> None:
        self._files: list[str] = []
        self.values: dict[Path_, int] = {}
        self.keys: dict[Path_, int] = {}
        if start is not None:
            self.set_value((), start.file, start.line, start.column)

    def _file_index(self, file: str) -> int:
        # A handful of files: a list scan is cheaper than another dict, and keeps the order.
        if file in self._files:
            return self._files.index(file)
        self._files.append(file)
        return len(self._files) - 1

    def set_value(self, path: Path_, file: str, line: int, column: int) -> None:
        self.values[path] = _pack(self._file_index(file), line, column)

    def set_key(self, path: Path_, file: str, line: int, column: int) -> None:
        self.keys[path] = _pack(self._file_index(file), line, column)

    def _location(self, packed: int) -> Location:
        return Location(self._files[packed >> 2 * _BITS], (packed >> _BITS) & _MASK, packed & _MASK)

    def value(self, path: Path_) -> Location:
        """The closest known position: the value itself or its nearest ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return self._location(found)
        return self._location(next(iter(self.values.values())))

    def key(self, path: Path_) -> Location:
        found = self.keys.get(path)
        return self._location(found) if found is not None else self.value(path)

    def update(self, other: SourceMap, remap: dict[Path_, Path_] | None = None) -> None:
        # The other map's file indices, renumbered into this map's list of files.
        shift = {index: self._file_index(file) - index for index, file in enumerate(other._files)}
        for source, target in ((other.values, self.values), (other.keys, self.keys)):
            for path, packed in source.items():
                moved = shift[packed >> 2 * _BITS]
                target[_remap(path, remap or {})] = packed + (moved << 2 * _BITS) if moved else packed


class NoPositions(SourceMap):
    """A source map that records nothing: for a first reading that only needs to know whether the
    configuration is valid. Every lookup answers one placeholder; a reading that finds any problem
    is done again with a `SourceMap` to locate it (`load.load_config`)."""

    __slots__ = ()
    NOWHERE = Location("", 0, 0)

    def set_value(self, path: Path_, file: str, line: int, column: int) -> None:
        pass

    def set_key(self, path: Path_, file: str, line: int, column: int) -> None:
        pass

    def value(self, path: Path_) -> Location:
        return self.NOWHERE

    def key(self, path: Path_) -> Location:
        return self.NOWHERE

    def update(self, other: SourceMap, remap: dict[Path_, Path_] | None = None) -> None:
        pass


def _remap(path: Path_, remap: dict[Path_, Path_]) -> Path_:
    """Rewrite a path whose two-element prefix (e.g. ("destinations", 3)) was moved by a merge."""
    replacement = remap.get(path[:2])
    return replacement + path[2:] if replacement is not None else path


# libyaml's parser, where installed, is ~10x faster and reports the same marks.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, TIMESTAMP, MERGE = (
    _TAG + kind for kind in ("str", "int", "float", "bool", "null", "timestamp", "merge")
)
SEQ, MAP = _TAG + "seq", _TAG + "map"
_SCALAR_TAGS = frozenset((STR, INT, FLOAT, BOOL, NULL, TIMESTAMP, MERGE))

# Characters YAML allows in a stream (YAML 1.1, 5.1); anything else is refused by the reader.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Line breaks as the parser counts them, for positions it does not give.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_TAG_DIRECTIVE = re.compile(r"^%TAG\b", re.MULTILINE)


class _Node:
    """A parsed node: "scalar" (value: str), "seq" (list of nodes) or "map" (list of key, value pairs)."""

    __slots__ = ("column", "kind", "line", "size", "tag", "value")

    def __init__(self, kind: str, tag: str, value: Any, line: int, column: int) -> None:
        self.kind, self.tag, self.value, self.line, self.column = kind, tag, value, line, column
        self.size = 1  # nodes once every alias inside is expanded (final when the node is closed)


class _Refused(Exception):
    """Reading stops: the budget is spent or the nesting too deep (the problem is already recorded)."""


def position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of `text[index]`, counting line breaks as YAML does."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


@contextmanager
def _no_gc() -> Iterator[None]:
    """Reading builds many small acyclic objects: the cycle collector only slows it down (~4x)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reader:
    def __init__(self, text: str, file: str, positions: bool = True) -> None:
        self.text = text
        self.file = file
        self.problems: list[Problem] = []
        self.fatal = False
        self.max_nodes = node_budget()
        self.nodes = 0  # nodes of the document with its aliases expanded, counted while composing
        self.visits = 0  # steps of building, a second guard: bounded by `nodes` times a small factor
        self.source = SourceMap() if positions else NoPositions()
        self._resolve: Any = Resolver().resolve
        self._constructor = SafeConstructor()
        self._strings: dict[str, str] = {}

    def at(self, line: int, column: int) -> Location:
        return Location(self.file, line, column)

    def refuse(self, location: Location, message: str, path: Path_ = ()) -> None:
        self.problems.append(Problem(location, message, path))
        self.fatal = True

    def spend(self, line: int, column: int, nodes: int = 1) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            self._too_large(line, column)

    def visit(self, line: int, column: int) -> None:
        self.visits += 1
        if self.visits > 4 * self.max_nodes:
            self._too_large(line, column)

    def _too_large(self, line: int, column: int) -> None:
        self.refuse(self.at(line, column),
                    f"document too large: more than {self.max_nodes:,} nodes once aliases are expanded "
                    f"(the budget is ${NODE_BUDGET_VARIABLE})")
        raise _Refused

    # -- characters --------------------------------------------------------------

    def characters(self) -> bool:
        """Report each character YAML does not allow where it is; True when there are none."""
        for count, match in enumerate(_NOT_PRINTABLE.finditer(self.text)):
            if count == MAX_CHARACTER_PROBLEMS:
                break
            line, column = position(self.text, match.start())
            self.refuse(self.at(line, column),
                        f"invalid YAML: character U+{ord(match.group()):04X} is not allowed (control characters must be escaped)")
        return not self.fatal

    # -- composing -----------------------------------------------------------------

    def compose(self) -> _Node | None:
        parser = _LOADER(self.text)
        try:
            return self._events(parser)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            location = self.at(mark.line + 1, mark.column + 1) if mark else self.at(1, 1)
            message = " ".join(part for part in (error.context, error.problem) if part)
            self.refuse(location, _one_line(f"invalid YAML: {message}"))
        except yaml.YAMLError as error:
            self.refuse(self.at(1, 1), _one_line(f"invalid YAML: {error}"))
        except _Refused:
            pass
        finally:
            parser.dispose()
        return None

    def _events(self, parser: Any) -> _Node | None:
        anchors: dict[str, _Node] = {}
        open_nodes: set[int] = set()
        stack: list[_Node] = []
        root: _Node | None = None
        documents = 0
        while True:
            event = parser.get_event()
            mark = event.start_mark
            line, column = mark.line + 1, mark.column + 1
            if isinstance(event, yaml.StreamEndEvent):
                return root
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.refuse(self.at(line, column), "invalid YAML: a configuration file holds one document, found another")
                    raise _Refused
                if event.tags:
                    directive = _TAG_DIRECTIVE.search(self.text, 0, mark.index + 1)
                    where = position(self.text, directive.start()) if directive else (line, column)
                    self.refuse(self.at(*where), "%TAG directives are not allowed (only the standard tags are)")
                continue
            if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                done = stack.pop()
                open_nodes.discard(id(done))
                done.size = 1 + sum(child.size for child in done.value)
                if done.kind == "map":
                    items = done.value
                    done.value = list(zip(items[::2], items[1::2], strict=True))
                continue
            if isinstance(event, yaml.AliasEvent):
                node = anchors.get(event.anchor or "")
                if node is None or id(node) in open_nodes:
                    why = "is recursive (it is inside its own anchor)" if node else "refers to no anchor defined before it"
                    self.refuse(self.at(line, column), f"alias *{event.anchor} {why}")
                    node = _Node("scalar", NULL, "", line, column)
                # The alias stands for a whole copy of its anchor: spent before it is built.
                self.spend(line, column, node.size)
            elif isinstance(event, yaml.ScalarEvent):
                self.spend(line, column)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self._resolve(ScalarNode, event.value, event.implicit) if event.implicit[0] else STR
                elif tag not in _SCALAR_TAGS:
                    self.refuse(self.at(line, column), self._tag_message(tag, "a scalar"))
                node = _Node("scalar", tag, event.value, line, column)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                self.spend(line, column)
                kind, standard = ("seq", SEQ) if isinstance(event, yaml.SequenceStartEvent) else ("map", MAP)
                if event.tag not in (None, "!", standard):
                    what = "a sequence" if kind == "seq" else "a mapping"
                    self.refuse(self.at(line, column), self._tag_message(event.tag, what))
                if len(stack) >= MAX_DEPTH:
                    self.refuse(self.at(line, column), f"nesting too deep: more than {MAX_DEPTH} levels")
                    raise _Refused
                node = _Node(kind, standard, [], line, column)
            else:
                continue  # stream start, document end
            if getattr(event, "anchor", None) is not None and not isinstance(event, yaml.AliasEvent):
                anchors[event.anchor] = node
            if stack:
                stack[-1].value.append(node)
            else:
                root = node
            if node.kind != "scalar" and not isinstance(event, yaml.AliasEvent):
                stack.append(node)
                open_nodes.add(id(node))

    @staticmethod
    def _tag_message(tag: str, what: str) -> str:
        return f"tag {_short_tag(tag)!r} is not allowed on {what} (only the standard YAML tags are)"

    # -- building --------------------------------------------------------------------

    def build(self, node: _Node, path: Path_, depth: int = 0) -> Any:
        self.visit(node.line, node.column)
        if depth > MAX_DEPTH:
            self.refuse(self.at(node.line, node.column), f"nesting too deep: more than {MAX_DEPTH} levels (aliases included)")
            raise _Refused
        self.source.set_value(path, self.file, node.line, node.column)
        if node.kind == "map":
            return self._mapping(node, path, depth)
        if node.kind == "seq":
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: _Node, path: Path_, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        seen: dict[Any, Location] = {}
        explicit = [(k, v) for k, v in node.value if not (k.kind == "scalar" and k.tag == MERGE)]
        for key_node, value_node in explicit:
            key = self._key(key_node, path)
            if key is None:
                continue
            here = self.at(key_node.line, key_node.column)
            if key in seen:
                first = seen[key]
                self.problems.append(Problem(
                    here, f"duplicate key {key!r} (first defined at line {first.line}, column {first.column})",
                    (*path, key),
                ))
                continue
            seen[key] = here
            self.source.set_key((*path, key), self.file, key_node.line, key_node.column)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        # Merge keys: what the mapping writes itself wins, then the merged mappings in order.
        for key_node, value_node in self._merged(node, path, depth):
            key = self._key(key_node, path)
            if key is None or key in result:
                continue
            self.source.set_key((*path, key), self.file, key_node.line, key_node.column)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _merged(self, node: _Node, path: Path_, depth: int) -> list[tuple[_Node, _Node]]:
        """The pairs `<<` brings into `node`, flattened (a merged mapping may merge others)."""
        pairs: list[tuple[_Node, _Node]] = []
        for key_node, value_node in node.value:
            if key_node.kind != "scalar" or key_node.tag != MERGE:
                continue
            sources = value_node.value if value_node.kind == "seq" else [value_node]
            for source in sources:
                self.visit(source.line, source.column)
                if source.kind != "map":
                    self.problems.append(Problem(self.at(source.line, source.column),
                                                 "a merge key (<<) takes a mapping or a list of mappings", path))
                    self.fatal = True
                    continue
                if depth > MAX_DEPTH:
                    self.refuse(self.at(source.line, source.column), f"merge keys nested more than {MAX_DEPTH} levels")
                    raise _Refused
                for pair in source.value:
                    self.visit(pair[0].line, pair[0].column)
                own = [(k, v) for k, v in source.value if not (k.kind == "scalar" and k.tag == MERGE)]
                pairs += own + self._merged(source, path, depth + 1)
        return pairs

    def _key(self, key_node: _Node, path: Path_) -> str | int | None:
        if key_node.kind != "scalar":
            self.problems.append(Problem(self.at(key_node.line, key_node.column), "mapping keys must be strings", path))
            return None
        key = self._scalar(key_node, (*path, "<key>"))
        if not isinstance(key, str | int) or isinstance(key, bool):
            shown = "null" if key is None else str(key).lower()
            self.problems.append(Problem(self.at(key_node.line, key_node.column),
                                         f"mapping keys must be strings (quote {shown!r} to use it as one)", path))
            return None
        # Interned: the same few keys (`url`, `provider`, ...) repeat in every destination, and each is
        # held in the document and in the SourceMap's paths for the whole run.
        return sys.intern(key) if isinstance(key, str) else key

    def _scalar(self, node: _Node, path: Path_) -> Any:
        tag, value = node.tag, node.value
        if tag in (STR, TIMESTAMP, MERGE):
            # One string for equal values (each destination's provider, its event types...): the
            # configuration keeps them for the whole run.
            return self._strings.setdefault(value, value)
        if tag == NULL:
            return None
        here = self.at(node.line, node.column)
        try:
            if tag == BOOL:
                return self._constructor.bool_values[value.lower()]
            if tag in (INT, FLOAT):
                if len(value) > MAX_NUMBER_CHARS:
                    self.refuse(here, f"number too long: more than {MAX_NUMBER_CHARS} characters", path)
                    return None
                construct = self._constructor.construct_yaml_int if tag == INT else self._constructor.construct_yaml_float
                return construct(ScalarNode(tag, value))
        except (ValueError, KeyError, OverflowError, TypeError):
            pass
        self.refuse(here, f"{_shown(value)} is not a valid {_short_tag(tag)}", path)
        return None


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def load_yaml(text: str, file: str, positions: bool = True) -> tuple[Any, SourceMap, list[Problem]]:
    """The document, where its parts are, and the problems found while reading it.

    The document is None when the file cannot be read as a whole (then the
    problems say why); otherwise problems are those that spoil one key only.
    The problems are located either way (from the parser's marks); `positions=False`
    only leaves out the source map (a `NoPositions`), ~17 MB per 10,000 destinations.
    """
    reader = _Reader(text, file, positions)
    start = SourceMap(Location(file, 1, 1))
    with _no_gc():
        if not reader.characters():
            return None, start, reader.problems
        root = reader.compose()
        if reader.fatal:
            return None, start, reader.problems
        if root is None:
            return {}, start, reader.problems
        try:
            document = reader.build(root, ())
        except _Refused:
            return None, start, reader.problems
    if reader.fatal:
        return None, start, reader.problems
    return document, reader.source, reader.problems
