"""Reading and writing scenarios (YAML or JSON), with validation errors turned into one line per problem."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nettwin._files import atomic_write_text
from nettwin._validation import short_repr
from nettwin.errors import ScenarioError
from nettwin.scenario.limits import MAX_INT_DIGITS, MAX_NESTING, MAX_VALUES
from nettwin.scenario.network import Network, build_network
from nettwin.scenario.spec import Scenario

__all__ = ["load_scenario", "parse_scenario", "dump_scenario", "read_mapping", "format_validation_error", "as_network"]


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``<field path>: <what is wrong>``, bad values quoted."""
    lines = []
    for e in err.errors():
        # An unknown key is the last item of its location, whatever it looks like.
        loc = _location(e["loc"], last_is_key=e["type"] == "extra_forbidden")
        msg = e["msg"]
        if msg.startswith(("Value error, ", "Assertion failed, ")):
            msg = msg.split(", ", 1)[1]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] not in ("value_error", "missing") and "input" in e and not isinstance(e["input"], dict | list):
            msg = f"{msg}, got {e['input']!r}"
        lines.append(f"{prefix}{loc}: {msg}" if loc else f"{prefix}{msg}")
    # Union members report the same field several times; keep the first of each.
    return "\n".join(dict.fromkeys(lines))


def _location(loc: tuple[Any, ...], last_is_key: bool = False) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and ((last_is_key and i == len(loc) - 1) or not _is_union_tag(item)):
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def _is_union_tag(item: str) -> bool:
    # pydantic names union branches like 'int', 'str', 'function-before[...]', 'tagged-union[...]', 'NodeSpec'.
    return item in ("int", "str", "float", "bool", "NodeSpec", "PacketSize") or _UNION_TAG.fullmatch(item) is not None


_UNION_TAG = re.compile(r"[a-z][a-z-]*\[.*\]", re.DOTALL)


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a mapping.

    Every file nettwin reads as YAML or JSON comes through here, so every one gets the same checks: duplicate keys
    are refused (naming the key, and its line in YAML), nesting deeper than
    :data:`~nettwin.scenario.limits.MAX_NESTING` is refused before the parser recurses into it, a file expanding to
    more than :data:`~nettwin.scenario.limits.MAX_VALUES` values (YAML aliases counted each time) is refused, and an
    integer too long to read exactly becomes infinity, which the field receiving it refuses by name.

    Raises
    ------
    ScenarioError
        One line naming the file and, where known, the line of the problem.
    """
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, not a YAML or JSON file")
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file")
    is_json = path.suffix.lower() == ".json"
    kind = "JSON" if is_json else "YAML"
    try:
        text = path.read_text()
        data = _parse_json(text) if is_json else yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = err.problem or err.context or "unreadable"
        raise ScenarioError(f"{path}: not valid YAML: {where}{problem}") from err
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        # ValueError covers JSONDecodeError and undecodable text; RecursionError a parser recursing too deep.
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ScenarioError(f"{path}: not valid {kind}: {first}") from err
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    _check_size(data, path)
    return data


class _Loader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, refusing duplicate keys and deep nesting, reading over-long integers as ±inf and
    exponent notation as numbers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_NESTING} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *base' keys are meant to be overridden
            key = self.construct_object(key_node, deep=deep)
            try:
                line = first.setdefault(key, key_node.start_mark.line)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if line != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first given on line {line + 1})", key_node.start_mark
                )
        return super().construct_mapping(node, deep)

    def construct_long_int(self, node: yaml.ScalarNode) -> int | float:
        digits = str(node.value).replace("_", "")
        if digits.lstrip("+-").isdigit() and len(digits.lstrip("+-")) > MAX_INT_DIGITS:
            return float(digits)
        return self.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_long_int)
# YAML 1.2 reads '1e12' and '1.5e6' as numbers; PyYAML's YAML 1.1 rules need a dot and a signed exponent, so a
# user's 'samples: 1e12' would otherwise be the text '1e12'.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _parse_json(text: str) -> Any:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                raise ValueError(f"line {line}: nested more than {MAX_NESTING} levels deep")
        elif token in "]}":
            depth -= 1
    return json.loads(text, parse_int=_json_int, object_pairs_hook=_json_object)


def _json_int(text: str) -> int | float:
    return float(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def _check_size(data: Any, path: Path) -> None:
    """Refuse data nested deeper than MAX_NESTING or holding more than MAX_VALUES values, walking it without
    recursion (YAML aliases make a small file a large, deep structure)."""
    count = 1
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        if not children:
            continue
        if depth >= MAX_NESTING:
            raise ScenarioError(f"{path}: nested more than {MAX_NESTING} levels deep")
        count += len(children)
        if count > MAX_VALUES:
            raise ScenarioError(f"{path}: holds more than {MAX_VALUES:,} values (YAML aliases counted each time)")
        stack.extend((child, depth + 1) for child in children)


def parse_scenario(data: dict[str, Any], source: str = "") -> Scenario:
    """Validate a scenario given as a mapping."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, f"{source}: " if source else "")) from err


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    ScenarioError
        One line per problem, each naming the file and the field.
    """
    return parse_scenario(read_mapping(path), str(path))


def dump_scenario(scenario: Scenario, path: str | Path | None = None) -> dict[str, Any]:
    """The scenario as a plain (SI) mapping; written to ``path`` as YAML or JSON when given."""
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    if path is not None:
        path = Path(path)
        text = json.dumps(data, indent=1) if path.suffix.lower() == ".json" else yaml.safe_dump(data, sort_keys=False)
        atomic_write_text(path, text)
    return data


def as_network(scenario: Scenario | Network | str | Path) -> Network:
    """Resolve a scenario, a scenario file, or pass a network through.

    Raises
    ------
    ScenarioError
        For anything else, naming what it got; or as :func:`load_scenario` and :func:`build_network`.
    """
    if isinstance(scenario, Network):
        return scenario
    if isinstance(scenario, Scenario):
        return build_network(scenario)
    if not isinstance(scenario, str | os.PathLike):
        raise ScenarioError(
            f"expected a Network, a Scenario or a scenario file, got {type(scenario).__name__} {short_repr(scenario)}"
        )
    path = Path(scenario)
    return build_network(load_scenario(path), base_dir=path.parent)
