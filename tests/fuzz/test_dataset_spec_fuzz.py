"""Dataset specs, valid and broken, through ``nettwin dataset generate`` (and ``dataset info`` on what it wrote).

Valid specs come from the schema: a tiny base scenario (inline or in its own file), 1-3 samples, and each kind of
variation (distributions of rates, durations, sizes and capacity scales; random flows; traffic matrices; topology
choices and grid perturbation; random link weights). Broken ones get the same mutations as scenario files.
"""

from __future__ import annotations

import pytest
from conftest import examples
from fuzz_strategies import Doc, broken, dataset_specs
from fuzz_support import PACKET_BUDGET, check, run_cli
from hypothesis import example, given, settings
from test_scenario_fuzz import write

pytestmark = pytest.mark.fuzz

_TINY = {
    "base": {
        "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
        "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "10kbps"}}],
        "simulation": {"duration": "1s"},
    },
    "samples": 2,
}

MAX_SAMPLES = 3
CANNOT_FIT = 10**9  # a sample count no machine holds: the spec must be refused, so it is run as written


def _budget(path) -> list[str]:
    """Options that keep a valid spec cheap: at most three samples, and the analytic engine for costly ones."""
    from nettwin.data.sampling import draw_scenario
    from nettwin.data.spec import load_dataset_spec

    try:
        spec = load_dataset_spec(path)
    except Exception:  # refused (or crashing) before any sample is simulated
        return []
    if spec.samples >= CANNOT_FIT:
        return []
    extra = ["--samples", str(MAX_SAMPLES)] if spec.samples > MAX_SAMPLES else []
    try:
        runs = 1 + spec.simbase_runs
        packets = 0.0
        for i in range(min(spec.samples, MAX_SAMPLES)):
            sc = draw_scenario(spec, i)
            packets += runs * sc.simulation.duration * sum(f.traffic.packet_rate for f in sc.flows)
        costly = not packets <= PACKET_BUDGET or spec.engine_name not in ("builtin", "analytic")
    except Exception:  # a sample that cannot be drawn fails in its worker, and is recorded as failed
        costly = False
    return extra + (["--engine", "analytic"] if costly else [])


@settings(max_examples=examples(1.5))
@given(doc=broken(dataset_specs(), strict_refs=False))
@example(doc=Doc({**_TINY, "samples": 10**12}))
@example(doc=Doc({**_TINY, "base": "."}, must_fail=True, must_name=["base"]))
@example(doc=Doc({**_TINY, "capacity_scale": 0}, must_fail=True, must_name=["capacity_scale"]))
def test_a_dataset_spec_generates_or_is_refused_with_one_line_per_problem(doc, case_dir):
    folder = case_dir()
    path, text = write(doc, folder)
    out = folder / "out"
    generated = check(
        run_cli(["dataset", "generate", str(path), "--out", str(out), "--workers", "1", *_budget(path)]),
        inputs=text,
        must_fail=doc.must_fail,
        must_pass=doc.must_pass,
        must_name=doc.must_name,
    )
    if generated.code == 0:
        check(run_cli(["dataset", "info", str(out), "--format", "json"]), inputs=text, json_stdout=True, must_pass=True)
