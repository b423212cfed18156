"""Scenario files, valid and broken, through ``nettwin simulate`` and ``nettwin predict``.

Valid scenarios come from the schema (tiny explicit, built-in and grid topologies; every traffic model and
packet-size law; human units and plain SI numbers; node names that are words, unicode, markup-like text or
indices) and must simulate. Broken ones carry wrong types, out-of-range, non-finite and huge numbers, bad units,
unknown and missing keys, duplicate keys, bad node references, deep nesting, truncated text and junk bytes.
"""

from __future__ import annotations

import pytest
from conftest import examples
from fuzz_strategies import Doc, broken, render, scenarios
from fuzz_support import PACKET_BUDGET, check, run_cli, scenario_packets
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

_CHAIN = {
    "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "10kbps"}}],
    "simulation": {"duration": "1s"},
}


def _with(path: tuple, value) -> dict:
    import copy

    data = copy.deepcopy(_CHAIN)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def write(doc: Doc, folder) -> tuple:
    """Write the document (and its companion files) into ``folder``; returns its path and its text."""
    for name, data in doc.extra_files.items():
        (folder / name).write_text(render(Doc(data, fmt=doc.fmt)), encoding="utf-8")
    content = doc.raw if doc.raw is not None else render(doc)
    path = folder / f"input{doc.suffix}"
    if isinstance(content, bytes):
        path.write_bytes(content)
        return path, repr(content)
    path.write_text(content, encoding="utf-8")
    return path, content


@settings(max_examples=examples(9))
@given(
    doc=broken(scenarios()),
    fmt=st.sampled_from(["table", "json"]),
    predict=st.integers(0, 4).map(lambda n: n == 0),
)
@example(doc=Doc(_with(("topology", "capacity_scale"), 1e300)), fmt="json", predict=False)
@example(doc=Doc(_with(("flows", 0, "traffic", "packet_size"), {"mean": 1e308})), fmt="json", predict=False)
@example(doc=Doc(_with(("simulation", "duration"), "1e-12s")), fmt="json", predict=False)
@example(doc=Doc(_with(("flows", 0, "src"), True), must_fail=True, must_name=["src"]), fmt="table", predict=False)
@example(
    doc=Doc(_with(("flows", 0, "src"), "[red]x[/red]"), must_fail=True, must_name=["[red]x[/red]"]),
    fmt="table",
    predict=False,
)
@example(doc=Doc({**_CHAIN, "simulation": {"duration": "1s", "[red]x[/red]": 1}}, must_fail=True,
                 must_name=["[red]x[/red]"]), fmt="table", predict=False)  # fmt: skip
@example(
    doc=Doc(
        {
            **_CHAIN,
            "topology": {"builtin": "gbn", "defaults": {"delay": "0ms"}},
            "flows": [{"src": 0, "dst": 4, "traffic": {"model": "cbr", "rate": "20kbps"}}],
            "routing": {"weight": "delay"},
        }
    ),
    fmt="table",
    predict=False,
)
def test_a_scenario_file_simulates_or_is_refused_with_one_line_per_problem(
    doc, fmt, predict, case_dir, twin_checkpoint
):
    path, text = write(doc, case_dir())
    if predict:
        command = ["predict", str(twin_checkpoint), str(path), "--format", fmt]
    else:
        command = ["simulate", str(path), "--format", fmt]
        packets = scenario_packets(path)
        if packets is not None and packets > PACKET_BUDGET:
            command += ["--engine", "analytic"]  # valid but costly: the same path, without packets
    check(
        run_cli(command),
        inputs=text,
        json_stdout=fmt == "json",
        must_fail=doc.must_fail,
        must_pass=doc.must_pass,
        must_name=doc.must_name,
    )
