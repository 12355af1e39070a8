"""GitHub Actions expressions (`${{ … }}` and `if:`), the subset the kit and the action use.

Contexts are nested dicts; property access (`steps.run.outputs.plan-json`), string,
number and boolean literals, `==` `!=` `&&` `||` `!` and parentheses, and the functions
`always() success() failure() cancelled() format() contains() startsWith()`. Values follow
GitHub's rules: `||` and `&&` return an operand, strings compare case-insensitively, a
missing property is null, null renders as "".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),\[\]])"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))")
TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot parse expression at {text[position:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def render(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    return render(a).casefold() == render(b).casefold()


class _Parser:
    def __init__(self, text: str, contexts: dict[str, Any], status: dict[str, Callable[[], bool]]) -> None:
        self.tokens, self.index = _tokens(text), 0
        self.contexts, self.status = contexts, status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.index]
        if value is not None and token[1] != value:
            raise ValueError(f"expected {value!r}, got {token[1]!r}")
        self.index += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            other = self.and_()
            value = value if truthy(value) else other
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            other = self.compare()
            value = other if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            other = self.unary()
            value = _equal(value, other) if op == "==" else not _equal(value, other)
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if self.peek() == ("op", "("):
            return self.call(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        value: Any = self.contexts
        for part in text.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        if name in self.status:
            return self.status[name]()
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: render(args[int(m.group(1)) + 1]), render(args[0]))
        if name == "contains":
            return render(args[1]).casefold() in render(args[0]).casefold()
        if name == "startsWith":
            return render(args[0]).casefold().startswith(render(args[1]).casefold())
        raise ValueError(f"unsupported function {name}()")


def evaluate(text: str, contexts: dict[str, Any], status: dict[str, Callable[[], bool]] | None = None) -> Any:
    inner = text.strip()
    if inner.startswith("${{") and inner.endswith("}}") and inner.count("${{") == 1:
        inner = inner[3:-2]
    return _Parser(inner, contexts, status or {}).parse()


def interpolate(text: Any, contexts: dict[str, Any]) -> str:
    """Replace every `${{ … }}` in a string (a `run:`, `with:` or `env:` value)."""
    return TEMPLATE.sub(lambda m: render(evaluate(m.group(1), contexts)), render(text))
