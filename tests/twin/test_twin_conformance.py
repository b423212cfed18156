"""The conformance battery every twin passes: the estimator contract, and save → new process → same predictions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nettwin.scenario import dump_scenario
from nettwin.twin import BaseTwin, NotFittedError, make_twin, twin_names

TWINS = twin_names()
CASES = TWINS + [f"{name}+probabilistic" for name in TWINS if name != "qt"]
"""Every twin, and every learnable one again with probabilistic heads (Normal, and binomial for drops)."""


def _fit(case: str, pairs, **params) -> BaseTwin:
    name, _, variant = case.partition("+")
    if name == "qt":
        return make_twin("qt").fit(pairs)
    small = {"glance": {}, "routenet": {"T": 2}, "routenet_fermi": {"T": 2}, "gnn": {"hidden": 16}}[name]
    params.setdefault("probabilistic", variant == "probabilistic")
    return make_twin(name, epochs=1, batch_size=3, options=small, **params).fit(pairs)


def test_every_registered_model_is_in_the_battery():
    assert set(TWINS) == {"glance", "routenet", "routenet_fermi", "gnn", "qt"}


@pytest.mark.parametrize("name", TWINS)
def test_predict_before_fit_says_so(name, chain):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        make_twin(name).predict(chain)


@pytest.mark.parametrize("name", TWINS)
def test_fit_returns_self_and_learned_state_ends_in_underscore(name, pairs):
    twin = make_twin(name, **({} if name == "qt" else {"epochs": 1}))
    before = dict(vars(twin))
    assert not any(k.endswith("_") for k in before)  # __init__ only stores arguments
    assert twin.fit(pairs) is twin
    learned = [k for k in vars(twin) if k not in before]
    assert learned and all(k.endswith("_") for k in learned)
    assert all(vars(twin)[k] is v for k, v in before.items())  # fit leaves the parameters alone


@pytest.mark.parametrize("name", CASES)
def test_predictions_cover_every_flow_and_kpi(name, pairs, ring, chain):
    twin = _fit(name, pairs)
    single = twin.predict(ring)
    many = twin.predict([ring, chain])
    assert set(single) >= {"delay", "jitter", "throughput", "drops"}
    assert all(v.shape == (4,) and np.all(np.isfinite(v)) for v in single.values())
    for k in single:
        np.testing.assert_allclose(many[0][k], single[k], rtol=1e-5)
    assert many[1]["delay"].shape == (3,)


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory, builders):
    """Every twin fitted, saved, and reloaded by one new Python process that predicts two networks."""
    tmp = tmp_path_factory.mktemp("conformance")
    nets = [builders.ring(), builders.chain()]
    pairs = [
        (n, builders.targets(n))
        for n in (builders.ring(), builders.chain(capacity="2Mbps"), builders.chain(capacity="3Mbps"))
    ]
    files = []
    for i, net in enumerate(nets):
        files.append(str(tmp / f"net{i}.yaml"))
        dump_scenario(net.scenario, files[-1])
    twins, ckpts = {}, {}
    for name in CASES:
        twins[name] = _fit(name, pairs)
        ckpts[name] = str(tmp / f"{name}.pt")
        twins[name].save(ckpts[name])
    script = textwrap.dedent(f"""
        import json, sys
        from nettwin.twin import load_twin
        out = {{}}
        for name, path in {ckpts!r}.items():
            twin = load_twin(path)
            preds = twin.predict({files!r})
            out[name] = {{"name": twin.name, "preds": [{{k: v.tolist() for k, v in p.items()}} for p in preds]}}
        json.dump(out, sys.stdout)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return twins, nets, json.loads(done.stdout)


@pytest.mark.parametrize("name", CASES)
def test_saved_twin_predicts_the_same_in_a_new_process(name, reloaded):
    twins, nets, other = reloaded
    twin = twins[name]
    assert other[name]["name"] == twin.name
    for mine, theirs in zip(twin.predict(nets), other[name]["preds"], strict=True):
        assert set(mine) == set(theirs)
        for k, v in mine.items():
            np.testing.assert_allclose(theirs[k], v, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_score_is_nmae_per_kpi(name, pairs):
    twin = _fit(name, pairs)
    scores = twin.score(pairs)
    assert set(scores) == {"delay", "jitter", "throughput", "drops"}
    assert all(np.isfinite(v) and v >= 0 for v in scores.values())
