"""Reading YAML and JSON files: hostile or mistaken files give one line naming the file and the problem."""

import json

import pytest
import yaml

from nettwin.errors import ScenarioError
from nettwin.scenario import build_network, load_scenario
from nettwin.scenario.io import read_mapping
from nettwin.scenario.limits import MAX_NESTING

TWO_NODES = {
    "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "10kbps"}}],
    "simulation": {"duration": "1s"},
}
SCENARIO_YAML = yaml.safe_dump(TWO_NODES, sort_keys=False)


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path) -> str:
    """The message of the error loading ``path`` (and building its network) raises; it must be one line."""
    with pytest.raises(ScenarioError) as info:
        build_network(load_scenario(path))
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "deep.yaml",
            SCENARIO_YAML + "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
            f"not valid YAML: line 16, column {MAX_NESTING + 3}: nested more than {MAX_NESTING} levels deep",
        ),
        (
            "deep-block.yaml",
            SCENARIO_YAML + "x:\n  " + "- " * 100_000 + "1\n",
            f"not valid YAML: line 17, column {2 * MAX_NESTING + 1}: nested more than {MAX_NESTING} levels deep",
        ),
        (
            "deep.json",
            '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            f"not valid JSON: line 1: nested more than {MAX_NESTING} levels deep",
        ),
        (
            "huge-int.json",
            json.dumps(TWO_NODES).replace('"10kbps"', "9" * 5000),
            "flows[0].traffic.rate: cannot read inf as a rate: the value must be finite",
        ),
        (
            "huge-int.yaml",
            SCENARIO_YAML.replace("rate: 10kbps", "rate: " + "9" * 5000),
            "flows[0].traffic.rate: cannot read inf as a rate: the value must be finite",
        ),
        (
            "twice.yaml",
            SCENARIO_YAML + "simulation: {duration: 2s}\n",
            "not valid YAML: line 16, column 1: duplicate key 'simulation' (first given on line 14)",
        ),
        (
            "twice.json",
            json.dumps(TWO_NODES)[:-1] + ', "name": "a", "name": "b"}',
            "not valid JSON: duplicate key 'name'",
        ),
        (
            "bomb.yaml",
            SCENARIO_YAML
            + "x:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"  {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "holds more than 10,000,000 values (YAML aliases counted each time)",
        ),
        (
            "scale.yaml",
            SCENARIO_YAML.replace("topology:\n", "topology:\n  capacity_scale: 1.0e+300\n"),
            "topology.capacity_scale: 1e+300 takes link a→b to 1e+295 Tbps, above the fastest rate nettwin accepts "
            "(1000 Tbps)",
        ),
    ],
)
def test_hostile_files_give_one_line(tmp_path, name, text, message):
    assert _error(_write(tmp_path, name, text)) == message


def test_a_scale_that_takes_a_capacity_to_zero_is_one_line(tmp_path):
    text = SCENARIO_YAML.replace("dst: b\n", "dst: b\n    capacity: 1.0e-10\n", 1)
    text = text.replace("topology:\n", "topology:\n  capacity_scale: 1.0e-320\n")
    assert _error(_write(tmp_path, "tiny.yaml", text)).startswith(
        "topology.capacity_scale: 9.99989e-321 takes link a→b to 0 bit/s"
    )


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"^.*/sub: is a directory, not a YAML or JSON file$"):
        read_mapping(tmp_path.joinpath("sub").mkdir() or tmp_path / "sub")


def test_merge_keys_may_be_overridden(tmp_path):
    path = _write(tmp_path, "merge.yaml", "base: &b {duration: 1s, seed: 3}\nsim: {<<: *b, seed: 4}\n")
    assert read_mapping(path)["sim"] == {"duration": "1s", "seed": 4}


def test_nesting_up_to_the_limit_is_read(tmp_path):
    path = _write(tmp_path, "ok.json", '{"x": ' + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "}")
    assert "x" in read_mapping(path)


def test_exponent_notation_is_a_number_in_yaml_as_in_json(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("a: [1e12, 1.5e-3, -2E+2, .5e2, 1_000e3, 12, 1.5, 2e3x, v1e2]\n")
    assert read_mapping(path) == {"a": [1e12, 1.5e-3, -200.0, 50.0, 1e6, 12, 1.5, "2e3x", "v1e2"]}


@pytest.mark.parametrize("bad", [42, None, 1.5, ["a.yaml"]])
def test_as_network_refuses_what_is_no_scenario_in_one_line(bad):
    from nettwin.scenario import as_network

    with pytest.raises(ScenarioError, match=r"^expected a Network, a Scenario or a scenario file, got \w+") as info:
        as_network(bad)
    assert "\n" not in str(info.value)
