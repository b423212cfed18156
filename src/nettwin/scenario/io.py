"""Reading and writing scenarios (YAML or JSON), with validation errors turned into one line per problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nettwin._files import atomic_write_text
from nettwin.errors import ScenarioError
from nettwin.scenario.spec import Scenario

__all__ = ["load_scenario", "parse_scenario", "dump_scenario", "read_mapping", "format_validation_error"]


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``<field path>: <what is wrong>``, bad values quoted."""
    lines = []
    for e in err.errors():
        loc = _location(e["loc"])
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


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and not _is_union_tag(item):
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def _is_union_tag(item: str) -> bool:
    # pydantic names union branches like 'int', 'str', 'function-before[...]', 'NodeSpec'.
    return item in ("int", "str", "float", "bool", "NodeSpec", "PacketSize") or "[" in item


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a mapping."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file")
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0]
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise ScenarioError(f"{path}: not valid {kind}: {first}") from err
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


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
