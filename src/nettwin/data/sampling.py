"""Drawing one sample's scenario from a dataset spec, and assigning samples to splits.

Every random choice for sample ``i`` comes from one generator,
``numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(i,)))``, used in a fixed order:

1. topology (one of ``topology.choices``; then the grid radius and seed when ``topology.perturb`` is set),
2. ``capacity_scale``,
3. flows (random pairs and their count, or the traffic matrix),
4. per-flow traffic parameters, one parameter at a time over all flows (rate, tau_on, tau_off, packet_size),
5. per-link routing weights.

The variations added later draw from a second generator, ``SeedSequence(seed, spawn_key=(i, 1))``, so that a spec
without them gives the samples it always gave, and adding one leaves the other draws alone:

1. a fresh seed for a random topology (when ``topology.reseed`` is set and the sample's topology is random),
2. per-link values, one attribute at a time over all directed links (capacity, delay, buffer, scheduler),
3. per-flow traffic laws (``traffic.model``) and their shape (one uniform number per flow), then classes
   (``traffic.tos``).

The sample's simulation seed comes from ``SeedSequence(seed, spawn_key=(i, 0))``. So a sample depends on the
spec, the seed and its id only: not on worker count, order, or which samples were generated before.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from nettwin.data.spec import SPLITS, DatasetSpec
from nettwin.errors import DatasetError
from nettwin.scenario.io import dump_scenario, parse_scenario
from nettwin.scenario.network import build_links, node_ref
from nettwin.scenario.spec import Scenario, TopologySpec
from nettwin.scenario.traffic import PacketSize, Traffic, truncated_pareto_mean

__all__ = [
    "sample_rng",
    "variation_rng",
    "sample_seed",
    "split_assignment",
    "runs_for_split",
    "draw_scenario",
    "draw_law",
    "scenario_json",
]

ONOFF_CYCLE_PACKETS = 100.0
"""A drawn on/off law's mean on + off cycle, in mean packet gaps: one cycle carries 100 packets on average."""

PPBP_SHAPE = 1.5
"""Pareto shape of a drawn ppbp law's burst sizes (finite mean, infinite variance: long-range dependent)."""

PPBP_BURST_PACKETS = (10.0, 1000.0)
"""Smallest and largest burst of a drawn ppbp law, in mean packet sizes."""


def sample_rng(seed: int, i: int) -> np.random.Generator:
    """The generator every random choice of sample ``i`` is drawn from."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))


def variation_rng(seed: int, i: int) -> np.random.Generator:
    """The second generator of sample ``i``: the draws of the variations listed second in this module's docstring."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i, 1)))


def sample_seed(seed: int, i: int) -> int:
    """Simulation seed of sample ``i`` (a 31-bit number), independent of what the sample's draws were."""
    state = np.random.SeedSequence(seed, spawn_key=(i, 0)).generate_state(1, dtype=np.uint32)
    return int(state[0] >> np.uint32(1))


def split_assignment(spec: DatasetSpec) -> np.ndarray:
    """(samples,) array of split names: a permutation seeded by ``spec.seed`` cut into train, val and test.

    Split sizes are exact (:meth:`Splits.sizes`); sample ``i``'s split depends on ``seed``, ``samples`` and the
    fractions only.
    """
    n = spec.samples
    order = np.random.default_rng(np.random.SeedSequence(spec.seed)).permutation(n)
    sizes = spec.splits.sizes(n)
    out = np.empty(n, dtype=object)
    start = 0
    for name in SPLITS:
        out[order[start : start + sizes[name]]] = name
        start += sizes[name]
    return out


def runs_for_split(spec: DatasetSpec, split: str) -> int:
    """How many runs a sample of ``split`` gets: R0..R(simbase_runs) for test, R0 alone otherwise."""
    return 1 + spec.simbase_runs if split == "test" else 1


def draw_scenario(spec: DatasetSpec, i: int) -> Scenario:
    """The scenario of sample ``i``: a pure function of ``spec`` and ``i``.

    Raises
    ------
    DatasetError
        If ``i`` is out of range, or the drawn sample cannot be built (e.g. more unique random pairs than the
        topology has).
    ScenarioError
        If the drawn scenario is invalid (e.g. a fixed flow names a node the drawn topology lacks).

    Examples
    --------
    >>> from nettwin.data.spec import parse_dataset_spec
    >>> spec = parse_dataset_spec({"samples": 4, "base": {"topology": {"builtin": "nsfnet"},
    ...     "flows": [{"src": 0, "dst": 5, "traffic": {"model": "cbr", "rate": "10kbps"}}]},
    ...     "traffic": {"rate": {"choice": ["10kbps", "20kbps"]}}})
    >>> draw_scenario(spec, 3) == draw_scenario(spec, 3)
    True
    """
    if not 0 <= i < spec.samples:
        raise DatasetError(f"sample {i} does not exist; the spec has samples 0..{spec.samples - 1}")
    rng = sample_rng(spec.seed, i)
    more = variation_rng(spec.seed, i)
    base = spec.base

    topo = base.topology
    if spec.topology.choices is not None:
        topo = spec.topology.choices[int(rng.integers(len(spec.topology.choices)))]
    topo_data = topo.model_dump(mode="json")
    if spec.topology.perturb is not None and topo.grid is not None:
        radius = float(spec.topology.perturb.draw(rng))
        grid_seed = int(rng.integers(2**31))
        topo_data["grid"] = {**topo_data["grid"], "perturb": radius, "seed": grid_seed}
    if spec.capacity_scale is not None:
        topo_data["capacity_scale"] = topo.capacity_scale * float(spec.capacity_scale.draw(rng))
    if spec.topology.reseed and topo.random is not None:
        topo_data["random"] = {**topo_data["random"], "seed": int(more.integers(2**31))}

    links = _links(TopologySpec.model_validate(topo_data).model_dump_json())
    nodes = links[0]

    if spec.flows.random is not None:
        flows = _random_flows(spec, rng, nodes)
    elif spec.flows.matrix is not None:
        flows = _matrix_flows(spec, rng, nodes)
    else:
        flows = [f.model_dump(mode="json") for f in base.flows]

    _vary_traffic(spec, rng, flows)

    routing = base.routing.model_dump(mode="json")
    if spec.routing.link_weights is not None:
        weights = spec.routing.link_weights.draw(rng, len(links[1]))
        topo_data["overrides"] = [
            *topo_data["overrides"],
            *_link_overrides(links, {"weight": weights.tolist()}, spec.routing.symmetric),
        ]
        routing = {**routing, "weight": "weight"}

    if spec.links.fields:
        topo_data["overrides"] = [
            *topo_data["overrides"],
            *_link_overrides(links, _link_values(spec, more, len(links[1])), spec.links.symmetric),
        ]
    _vary_laws(spec, more, flows)

    simulation = {
        **base.simulation.model_dump(mode="json"),
        "seed": sample_seed(spec.seed, i),
        "engine": spec.engine_name,
    }
    data = {
        "name": f"{spec.dataset_name}-{i}",
        "topology": topo_data,
        "flows": flows,
        "routing": routing,
        "simulation": simulation,
    }
    return parse_scenario(data, f"sample {i}")


def scenario_json(scenario: Scenario) -> str:
    """Compact JSON text of a scenario (SI values, defaults left out), as stored in datasets."""
    import json

    return json.dumps(dump_scenario(scenario), separators=(",", ":"))


@lru_cache(maxsize=64)
def _links(topology_json: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Node names and directed links (src, dst arrays, in network link order) of a topology."""
    links = build_links(TopologySpec.model_validate_json(topology_json))
    return links.nodes, links.link_src.copy(), links.link_dst.copy()


def _random_flows(spec: DatasetSpec, rng: np.random.Generator, nodes: tuple[str, ...]) -> list[dict[str, Any]]:
    rf = spec.flows.random
    assert rf is not None
    n = len(nodes)
    count = int(rf.count.draw_int(rng))
    n_pairs = n * (n - 1)
    if n_pairs == 0:
        raise DatasetError(f"flows.random: the topology has {n} node(s); random flows need at least 2")
    if rf.unique_pairs:
        if count > n_pairs:
            raise DatasetError(
                f"flows.random: {count} flows with unique_pairs, but the topology has only {n_pairs} ordered pairs"
            )
        picks = rng.choice(n_pairs, size=count, replace=False)
        src = picks // (n - 1)
        off = picks % (n - 1)
        dst = np.where(off >= src, off + 1, off)
    else:
        src = rng.integers(n, size=count)
        dst = (src + rng.integers(1, n, size=count)) % n
    traffic = rf.traffic.model_dump(mode="json")
    return [
        {"src": node_ref(nodes, int(s)), "dst": node_ref(nodes, int(d)), "traffic": dict(traffic)}
        for s, d in zip(src, dst, strict=True)
    ]


def _matrix_flows(spec: DatasetSpec, rng: np.random.Generator, nodes: tuple[str, ...]) -> list[dict[str, Any]]:
    tm = spec.flows.matrix
    assert tm is not None
    n = len(nodes)
    if n < 2:
        raise DatasetError(f"flows.matrix: the topology has {n} node(s); a traffic matrix needs at least 2")
    intensity = float(tm.intensity.draw(rng))
    src, dst = np.nonzero(~np.eye(n, dtype=bool))
    if tm.model == "uniform":
        rates = intensity * rng.uniform(tm.low, 1.0, size=len(src))
    else:
        mass = rng.uniform(tm.low, 1.0, size=n)
        weight = mass[src] * mass[dst]
        rates = intensity * weight / weight.max()
    template = tm.traffic.model_dump(mode="json")
    return [
        {"src": node_ref(nodes, int(s)), "dst": node_ref(nodes, int(d)), "traffic": {**template, "rate": float(r)}}
        for s, d, r in zip(src, dst, rates, strict=True)
    ]


def _vary_traffic(spec: DatasetSpec, rng: np.random.Generator, flows: list[dict[str, Any]]) -> None:
    var = spec.traffic
    n = len(flows)
    for field in var.fields:
        values = getattr(var, field).draw(rng, n)
        for flow, value in zip(flows, values, strict=True):
            traffic = flow["traffic"] = dict(flow["traffic"])
            if field == "packet_size":
                # the drawn value is the mean: the flow's size law keeps its shape, scaled to that mean
                law = PacketSize.model_validate(traffic.get("packet_size", Traffic.model_fields["packet_size"].default))
                traffic["packet_size"] = law.with_mean(float(value)).model_dump(exclude_none=True)
            elif field in ("tau_on", "tau_off"):
                if traffic.get("model") == "onoff":
                    traffic[field] = float(value)
            else:
                traffic[field] = float(value)


def _link_values(spec: DatasetSpec, rng: np.random.Generator, n: int) -> dict[str, list[Any]]:
    """Per directed link, the drawn value of each attribute of ``spec.links`` (drawn in :attr:`fields` order)."""
    var = spec.links
    out: dict[str, list[Any]] = {}
    for field in var.fields:
        if field in ("capacity", "delay"):
            out[field] = getattr(var, field).draw(rng, n).tolist()
        elif field == "buffer":
            out[field] = var.buffer.draw_int(rng, n).tolist()  # type: ignore[union-attr]
        else:
            choice = var.scheduler.choice  # type: ignore[union-attr]
            out[field] = [
                choice[k].model_dump(mode="json", exclude_none=True) for k in var.scheduler.draw_index(rng, n)
            ]  # type: ignore[union-attr]
    return out


def _link_overrides(
    links: tuple[tuple[str, ...], np.ndarray, np.ndarray], values: dict[str, list[Any]], symmetric: bool
) -> list[dict[str, Any]]:
    """One override per directed link setting its drawn ``values``; with ``symmetric`` a link's reverse direction
    takes the values drawn for the direction listed first."""
    nodes, link_src, link_dst = links
    chosen: dict[tuple[int, int], dict[str, Any]] = {}
    for j, (u, v) in enumerate(zip(link_src.tolist(), link_dst.tolist(), strict=True)):
        if (u, v) in chosen:
            continue  # parallel links: an override names the first one only
        if symmetric and (v, u) in chosen:
            chosen[(u, v)] = chosen[(v, u)]
        else:
            chosen[(u, v)] = {k: column[j] for k, column in values.items()}
    return [
        {"src": node_ref(nodes, u), "dst": node_ref(nodes, v), **given, "bidirectional": False}
        for (u, v), given in chosen.items()
    ]


def draw_law(traffic: dict[str, Any], model: str, shape: float) -> dict[str, Any]:
    """A flow's traffic as ``model``, with the same mean rate and packet sizes; ``shape`` in [0, 1) sets the law's
    one free parameter.

    With m the flow's mean rate and g its mean gap between packets (mean packet size · 8 / m):

    - ``cbr``, ``poisson``: rate m;
    - ``uniform``: ``spread`` = shape;
    - ``normal``: ``gap_std`` = shape · g / 3 (so the clipped gaps lower the mean rate by under 0.02 %);
    - ``onoff``: duty cycle d = 0.25 + 0.5 · shape, cycle T = 100 g (:data:`ONOFF_CYCLE_PACKETS`): ``tau_on`` = d T,
      ``tau_off`` = (1 − d) T, rate while on m / d;
    - ``ppbp``: bursts of Pareto(1.5) sizes (:data:`PPBP_SHAPE`) between 10 and 1000 mean packets
      (:data:`PPBP_BURST_PACKETS`), each sent at m / d (d as for onoff, so bursts are active a fraction d of the
      time), ``burst_arrivals`` set so the mean rate is m.

    Examples
    --------
    >>> law = draw_law({"model": "poisson", "rate": 1e6}, "onoff", 0.5)
    >>> law["rate"], round(law["tau_on"], 6), round(law["tau_off"], 6)
    (2000000.0, 0.4, 0.4)
    """
    current = Traffic.model_validate(traffic)
    mean, size = current.mean_rate, current.packet_size.mean_bytes
    gap = size * 8.0 / mean
    out: dict[str, Any] = {"model": model, "rate": mean, "packet_size": traffic.get("packet_size", size)}
    duty = 0.25 + 0.5 * shape
    if model == "uniform":
        out["spread"] = shape
    elif model == "normal":
        out["gap_std"] = shape * gap / 3.0
    elif model == "onoff":
        cycle = ONOFF_CYCLE_PACKETS * gap
        out.update(rate=mean / duty, tau_on=duty * cycle, tau_off=(1.0 - duty) * cycle)
    elif model == "ppbp":
        low, high = (k * size for k in PPBP_BURST_PACKETS)
        burst = truncated_pareto_mean(low, high, PPBP_SHAPE)
        out.update(
            rate=mean / duty,
            burst_arrivals=mean / (8.0 * burst),
            burst_min=low,
            burst_max=high,
            pareto_shape=PPBP_SHAPE,
        )
    return out


def _vary_laws(spec: DatasetSpec, rng: np.random.Generator, flows: list[dict[str, Any]]) -> None:
    var = spec.traffic
    n = len(flows)
    if var.model is not None:
        models = [var.model.choice[k] for k in var.model.draw_index(rng, n)]
        shapes = rng.uniform(size=n)
        for flow, model, shape in zip(flows, models, shapes.tolist(), strict=True):
            flow["traffic"] = draw_law(flow["traffic"], model, shape)
    if var.tos is not None:
        for flow, tos in zip(flows, var.tos.draw_int(rng, n).tolist(), strict=True):
            flow["tos"] = int(tos)
