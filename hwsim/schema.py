"""Strict validation of YAML-loaded data: walk it against a spec, collect every problem.

A spec is a tree of nodes: `Field` (a scalar checked by a function), `Section` (a mapping with
fixed keys), `MapOf` (a mapping with free keys, e.g. network names), `ListOf` and `Tagged` (a
mapping whose `kind:` picks its section). `validate` walks the data, rejects unknown keys with a
"did you mean" suggestion, and raises ONE `ConfigError` listing each problem as
`file: dotted.key: what is wrong (got value)`; its first line alone names the file, the number of
problems and the keys involved. Checks return an error text or None, so new ones are one-liners.

Defaults live in the dataclasses the data becomes: `dataclass_section` marks a key optional exactly
when the dataclass field of that name has a default, and a section's output leaves absent keys out
so the dataclass fills them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from hwsim.errors import ConfigError

Check = Callable[[Any], "str | None"]
"""Returns what is wrong with a value, or None when it is acceptable."""

Rule = Callable[[dict[str, Any]], Iterable[tuple[str, str, Any]]]
"""A cross-key check on a fully valid section: yields (key, what is wrong, got value)."""

_ROOT = "(top level)"
_SHOWN_KEYS = 6


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()
"""What a node returns for a value that had problems (they are already recorded)."""

_NO_VALUE: Any = object()


def _show(value: Any) -> str:
    """A value as the user wrote it in YAML, shortened to one readable line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def join_path(path: str, key: object) -> str:
    """`path.key`, or `key` alone at the top level."""
    return f"{path}.{key}" if path else str(key)


class Problems:
    """Problems found in one file, reported together as one `ConfigError`."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._items: list[tuple[str, str]] = []

    def add(self, path: str, message: str, got: Any = _NO_VALUE, *,
            line: int | None = None) -> None:
        """Record `path: message (got value)`; `line` gives a `file:line:` location instead."""
        detail = message if got is _NO_VALUE else f"{message} (got {_show(got)})"
        location = self.where if line is None else f"{self.where}:{line}"
        self._items.append((path or _ROOT, f"{location}: {path or _ROOT}: {detail}"))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self._items]

    def raise_if_any(self) -> None:
        """Raise one ConfigError listing every problem; do nothing when there is none."""
        if not self._items:
            return
        if len(self._items) == 1:
            raise ConfigError(self._items[0][1])
        keys = list(dict.fromkeys(path for path, _ in self._items))
        shown = ", ".join(keys[:_SHOWN_KEYS]) + (", ..." if len(keys) > _SHOWN_KEYS else "")
        head = f"{self.where}: {len(self._items)} problems: {shown}"
        raise ConfigError("\n".join([head, *("  " + m for m in self.messages)]))


class Node(Protocol):
    required: bool

    def walk(self, value: Any, path: str, problems: Problems) -> Any: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """A scalar value accepted when `check` returns None."""

    check: Check
    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        message = self.check(value)
        if message is None:
            return value
        problems.add(path, message, value)
        return INVALID


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be: a near spelling or a unique prefix match.

    Case is ignored, so `VGG7` suggests `vgg7`.
    """
    by_lower = {choice.lower(): choice for choice in choices}
    word = word.lower()
    close = difflib.get_close_matches(word, list(by_lower), n=1, cutoff=0.6)
    if close:
        return by_lower[close[0]]
    prefixed = [c for c in by_lower if word and (c.startswith(word) or word.startswith(c))]
    return by_lower[prefixed[0]] if len(prefixed) == 1 else None


def _unknown_key_message(key: object, known: Iterable[str]) -> str:
    known = list(known)
    suggestion = closest(str(key), known)
    if suggestion is not None:
        return f"unknown key, did you mean '{suggestion}'?"
    return "unknown key; expected one of: " + ", ".join(known)


def _expect_mapping(value: Any, path: str, problems: Problems) -> bool:
    if isinstance(value, dict):
        return True
    problems.add(path, "must be a mapping of keys to values", value)
    return False


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """A mapping with fixed keys; `rules` run once every key in it is valid."""

    fields: Mapping[str, Node]
    rules: tuple[Rule, ...] = ()
    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        if not _expect_mapping(value, path, problems):
            return INVALID
        before = len(problems)
        for key in value:
            if key not in self.fields:
                problems.add(join_path(path, key), _unknown_key_message(key, self.fields))
        clean: dict[str, Any] = {}
        for key, node in self.fields.items():
            if key not in value:
                if node.required:
                    problems.add(join_path(path, key), "missing required key")
                continue
            result = node.walk(value[key], join_path(path, key), problems)
            if result is not INVALID:
                clean[key] = result
        if len(problems) == before:
            for rule in self.rules:
                for key, message, got in rule(clean):
                    problems.add(join_path(path, key), message, got)
        return clean if len(problems) == before else INVALID


@dataclasses.dataclass(frozen=True, slots=True)
class MapOf:
    """A mapping from free names (checked by `key_check`) to values of one kind."""

    value: Node
    key_check: Check | None = None
    min_items: int = 1
    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        if not _expect_mapping(value, path, problems):
            return INVALID
        before = len(problems)
        if len(value) < self.min_items:
            problems.add(path, f"must hold at least {self.min_items} entry(ies)", value)
        clean = {}
        for key, item in value.items():
            message = self.key_check(key) if self.key_check else None
            if message is not None:
                problems.add(join_path(path, key), f"invalid name: {message}", key)
                continue
            clean[key] = self.value.walk(item, join_path(path, key), problems)
        return clean if len(problems) == before else INVALID


@dataclasses.dataclass(frozen=True, slots=True)
class ListOf:
    """A list whose items all match `item`; items are addressed as `path[index]`."""

    item: Node
    min_items: int = 1
    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        if not isinstance(value, list):
            problems.add(path, "must be a list", value)
            return INVALID
        before = len(problems)
        if len(value) < self.min_items:
            problems.add(path, f"must hold at least {self.min_items} item(s)", value)
        clean = [self.item.walk(item, f"{path}[{index}]", problems)
                 for index, item in enumerate(value)]
        return clean if len(problems) == before else INVALID


@dataclasses.dataclass(frozen=True, slots=True)
class Tagged:
    """A mapping whose `tag` key (e.g. `kind`) chooses the section it must match.

    Each variant section must itself declare the tag key.
    """

    tag: str
    variants: Mapping[str, Section]
    required: bool = True

    def walk(self, value: Any, path: str, problems: Problems) -> Any:
        if not _expect_mapping(value, path, problems):
            return INVALID
        if self.tag not in value:
            problems.add(join_path(path, self.tag), "missing required key")
            return INVALID
        message = one_of(*self.variants)(value[self.tag])
        if message is not None:
            problems.add(join_path(path, self.tag), message, value[self.tag])
            return INVALID
        return self.variants[value[self.tag]].walk(value, path, problems)


def validate(data: Any, spec: Node, where: str) -> Any:
    """Walk `data` against `spec`; return the clean data or raise one ConfigError for all."""
    problems = Problems(where)
    clean = spec.walk(data, "", problems)
    problems.raise_if_any()
    return clean


def dataclass_defaults(cls: type) -> dict[str, Any]:
    """Field name -> default value for the fields of dataclass `cls` that have one."""
    defaults = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
    return defaults


def dataclass_section(cls: type, fields: Mapping[str, Node], rules: tuple[Rule, ...] = (),
                      required: bool = True) -> Section:
    """A Section whose keys named like fields of `cls` are optional iff that field has a default.

    Keys that are not fields of `cls` keep their own `required` flag.
    """
    defaults = dataclass_defaults(cls)
    names = {field.name for field in dataclasses.fields(cls)}
    adjusted = {key: dataclasses.replace(node, required=key not in defaults)  # type: ignore[type-var]
                if key in names else node for key, node in fields.items()}
    return Section(adjusted, rules, required)


# --- checks ------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def positive_int(value: Any) -> str | None:
    return None if _is_int(value) and value > 0 else "must be a positive integer"


def non_negative_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be an integer >= 0"


def positive_number(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "must be a number > 0"


def non_negative_number(value: Any) -> str | None:
    return None if _is_number(value) and value >= 0 else "must be a number >= 0"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def int_between(low: int, high: int) -> Check:
    """An integer in the closed range low..high."""
    def check(value: Any) -> str | None:
        ok = _is_int(value) and low <= value <= high
        return None if ok else f"must be an integer in {low}..{high}"
    return check


def number_between(low: float, high: float) -> Check:
    """A finite number in the closed range low..high."""
    def check(value: Any) -> str | None:
        ok = _is_number(value) and low <= value <= high
        return None if ok else f"must be a number in {low}..{high}"
    return check


def one_of(*choices: Any) -> Check:
    """Exactly one of `choices` (compared with type too, so 1 never passes for true)."""
    shown = ", ".join(repr(c) if isinstance(c, str) else _show(c) for c in choices)

    def check(value: Any) -> str | None:
        if any(type(value) is type(c) and value == c for c in choices):
            return None
        message = f"must be one of {shown}"
        suggestion = closest(str(value), [c for c in choices if isinstance(c, str)])
        return f"{message}; did you mean '{suggestion}'?" if suggestion else message
    return check


def equal_to(expected: Any, why: str = "") -> Check:
    """Exactly `expected`; `why` explains the constraint to the user."""
    def check(value: Any) -> str | None:
        if type(value) is type(expected) and value == expected:
            return None
        return f"must be {_show(expected)}" + (f" ({why})" if why else "")
    return check


# --- reading YAML ------------------------------------------------------------------------------


MAX_YAML_DEPTH = 64  # nesting levels; hwsim's own files use at most 4
MAX_YAML_NODES = 100_000  # values after expanding aliases (a 600-byte alias bomb has 10^9)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (only true/false), no duplicate keys, bounded nesting
    and a bounded size once aliases are expanded (so an alias bomb fails at once).

    YAML 1.1 reads `yes`, `no`, `on`, `off` as booleans, which hides typos in strings and lets
    `double_buffered: yes` pass; here they stay strings and the bool checks reject them.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels",
                    self.peek_event().start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(c), 1) for c in children)
            if self._sizes[id(node)] > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_NODES:,} values once aliases are "
                    "expanded (an alias bomb?); write the values out", node.start_mark)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file strictly; every failure is a ConfigError naming the file.

    Raises:
        ConfigError: the file is missing or unreadable (`file: ...; check the path`), or its
            YAML is malformed (`file:line:column: invalid YAML: ...`).
    """
    where = str(path)
    source = read_text_file(path)
    try:
        return yaml.load(source, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(f"{where}{position}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None


def read_text_file(path: str | os.PathLike[str]) -> str:
    """A UTF-8 text file's content, or one ConfigError naming the file and the fix."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc}); check the path") from None
