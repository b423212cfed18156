"""The twin battery: :func:`check_twin`."""

from __future__ import annotations

import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nettwin.errors import NettwinError, NotFittedError
from nettwin.scenario import build_network, dump_scenario, parse_scenario
from nettwin.scenario.network import Network
from nettwin.testing._battery import Battery, in_new_process

__all__ = ["check_twin", "twin_data", "synthetic_targets"]

Pairs = list[tuple[Network, dict[str, np.ndarray]]]


def _chain(capacity: str) -> Network:
    """a→b→c→d (bidirectional links) with three flows of different traffic models and path lengths."""
    return build_network(
        parse_scenario(
            {
                "name": "chain",
                "topology": {
                    "nodes": ["a", "b", "c", "d"],
                    "defaults": {"capacity": capacity},
                    "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}],
                },
                "flows": [
                    {"src": "a", "dst": "d", "traffic": {"model": "cbr", "rate": "100kbps"}},
                    {
                        "src": "b",
                        "dst": "c",
                        "traffic": {"model": "onoff", "rate": "200kbps", "tau_on": 1, "tau_off": 2},
                    },
                    {"src": "d", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps", "packet_size": 500}},
                ],
            }
        )
    )


def _ring() -> Network:
    """A 5-node ring with a chord and four flows."""
    links = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a"), ("a", "c")]
    flows = [("a", "d", "poisson", "400kbps"), ("b", "e", "cbr", "250kbps"), ("d", "a", "poisson", "100kbps")]
    return build_network(
        parse_scenario(
            {
                "name": "ring",
                "topology": {"nodes": list("abcde"), "links": [{"src": s, "dst": d} for s, d in links]},
                "flows": [{"src": s, "dst": d, "traffic": {"model": m, "rate": r}} for s, d, m, r in flows]
                + [
                    {
                        "src": "e",
                        "dst": "c",
                        "traffic": {"model": "onoff", "rate": "500kbps", "tau_on": 1, "tau_off": 1},
                    }
                ],
            }
        )
    )


def synthetic_targets(net: Network) -> dict[str, np.ndarray]:
    """Plausible KPIs computed from the network (hop counts and rates), so that a twin has something to learn."""
    hops = np.diff(net.path_ptr).astype(float)
    rate = np.array([f.traffic.mean_rate for f in net.flows])
    return {
        "delay": 1e-3 * hops + rate * 1e-9,
        "jitter": 1e-4 * hops,
        "throughput": rate * 0.99,
        "drops": np.round(rate / 1e5),
    }


def twin_data() -> tuple[list[Network], Pairs]:
    """Tiny inputs for :func:`check_twin`: two networks to predict (a ring of five nodes with four flows, a chain
    of four with three), and three ``(network, KPIs)`` pairs to train on, with KPIs computed from hop counts and
    rates."""
    pairs = [(n, synthetic_targets(n)) for n in (_ring(), _chain("2Mbps"), _chain("3Mbps"))]
    return [_ring(), _chain("2Mbps")], pairs


def check_twin(
    make_twin: Callable[[], Any], networks: Sequence[Network] | None = None, pairs: Pairs | None = None
) -> None:
    """Check that the twins ``make_twin()`` makes follow the twin contract.

    ``make_twin`` makes a new, unfitted twin each call, with the same (small) settings: a learnable twin should
    train for an epoch. ``networks`` are predicted and ``pairs`` (``(network, {kpi: (F,) array})``) train (default
    :func:`twin_data`). The rules:

    * ``__init__`` only stores its arguments; ``get_params`` gives them, and a twin made of them has the same;
    * ``predict`` before ``fit`` raises :class:`~nettwin.errors.NotFittedError` saying so;
    * ``fit`` returns the twin, leaves its parameters alone and adds learned state ending in ``_``;
    * a network's prediction holds an ``(F,)`` finite array per KPI learned, the same alone as among others;
    * ``score`` gives a finite, non-negative NMAE per KPI learned;
    * the same settings (and seed) on the same data give the same predictions;
    * saved and loaded in a new Python process (:func:`~nettwin.twin.load_twin`), it predicts the same;
    * bad input is one line (a :class:`~nettwin.errors.NettwinError`): training on something that is not data,
      predicting a scenario file that does not exist.

    Raises
    ------
    AssertionError
        Naming the twin and the first rule it breaks.
    """
    if networks is None or pairs is None:
        default_networks, default_pairs = twin_data()
        networks = default_networks if networks is None else networks
        pairs = default_pairs if pairs is None else pairs
    networks = list(networks)
    twin = make_twin()
    b = Battery(f"{type(twin).__name__} '{twin.name}'")
    b.init_stores_parameters(twin)
    b.one_line_error(
        "predict before fit raises NotFittedError saying so",
        lambda: make_twin().predict(networks[0]),
        NotFittedError,
        "not fitted yet",
    )
    b.fit_returns_self(twin, lambda t: t.fit(pairs), True)
    preds = _predictions(b, twin, networks)
    with b.rule("score gives a finite, non-negative NMAE per KPI"):
        scores = twin.score(pairs)
        b.require(set(scores) == set(twin.kpis_), "score gives an NMAE per KPI", f"{sorted(scores)}")
        b.require(all(np.isfinite(v) and v >= 0 for v in scores.values()), "score is finite, ≥ 0", f"{scores}")
    with b.rule("the same settings on the same data give the same predictions"):
        again = make_twin().fit(pairs).predict(networks)
        _same(preds, again, rtol=1e-6)
    _checkpoint(b, twin, networks, preds)
    b.one_line_error("training on what is not data is refused in one line", lambda: make_twin().fit([42]), NettwinError)
    with tempfile.TemporaryDirectory() as tmp:
        missing = str(Path(tmp) / "missing.yaml")
        b.one_line_error(
            "predicting a missing scenario file is refused in one line naming it",
            lambda: twin.predict(missing),
            NettwinError,
            "missing.yaml",
        )


def _predictions(b: Battery, twin: Any, networks: list[Network]) -> list[dict[str, np.ndarray]]:
    rule = "a prediction holds an (F,) finite array per KPI learned"
    with b.rule(rule):
        many = twin.predict(networks)
        b.require(isinstance(many, list) and len(many) == len(networks), rule, "a list of networks gives no list")
        for net, pred in zip(networks, many, strict=True):
            lacking = [k for k in twin.kpis_ if k not in pred]
            b.require(not lacking, rule, f"no '{lacking[0]}'" if lacking else "")
            for k, v in pred.items():
                b.require(np.shape(v) == (len(net.flows),), rule, f"'{k}' has shape {np.shape(v)}")
                b.require(bool(np.all(np.isfinite(v))), rule, f"'{k}' is not finite")
    with b.rule("a network alone is predicted as among others"):
        _same([twin.predict(networks[0])], many[:1], rtol=1e-5)
    return many


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]], rtol: float) -> None:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert set(x) == set(y), f"network {i}: KPIs {sorted(x)} != {sorted(y)}"
        for k in x:
            np.testing.assert_allclose(y[k], x[k], rtol=rtol, atol=1e-12, err_msg=f"network {i}, '{k}'")


def _checkpoint(b: Battery, twin: Any, networks: list[Network], preds: list[dict[str, np.ndarray]]) -> None:
    rule = "saved and loaded in a new process, it predicts the same"
    with tempfile.TemporaryDirectory() as tmp:
        with b.rule(rule):
            path = str(Path(tmp) / "twin.pt")
            twin.save(path)
            files = []
            for i, net in enumerate(networks):
                files.append(str(Path(tmp) / f"net{i}.yaml"))
                dump_scenario(net.scenario, files[-1])
        script = textwrap.dedent(f"""
            import json, sys
            from nettwin.twin import load_twin
            twin = load_twin({path!r})
            preds = [{{k: v.tolist() for k, v in p.items()}} for p in twin.predict({files!r})]
            json.dump({{"name": twin.name, "preds": preds}}, sys.stdout)
        """)
        other = in_new_process(b, rule, script)
    with b.rule(rule):
        b.require(other["name"] == twin.name, rule, f"it loads as {other['name']!r}")
        _same(preds, other["preds"], rtol=1e-6)
