"""SimResult: the one result type of every engine and baseline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nettwin._json import write_json
from nettwin.scenario.network import Network
from nettwin.sim.kpi import FLOW_COLUMNS, LINK_COLUMNS

__all__ = ["SimResult", "ROUTE_COLUMNS"]

ROUTE_COLUMNS = ("delay", "delay_std", "throughput", "drop_rate", "tx_packets", "rx_packets", "dropped")
"""Per-route KPIs of split flows, defined as the per-flow KPIs of the same names (:mod:`nettwin.sim.kpi`) over the
packets that took the route."""


@dataclass(eq=False)
class SimResult:
    """Per-flow KPIs, per-link statistics, resolved paths and run metadata.

    ``flows`` maps each column of :data:`nettwin.sim.kpi.FLOW_COLUMNS` to an (F,) array in scenario flow order;
    ``links`` maps :data:`~nettwin.sim.kpi.LINK_COLUMNS` to (L,) arrays in network link order. ``paths`` holds each
    flow's node path (a split flow's: the path with the largest share). ``meta`` records engine, version, seed, wall
    seconds, packets and events.

    When the network has flows that split their packets over several paths and the engine follows each path,
    ``routes`` maps ``flow``, ``share`` and :data:`ROUTE_COLUMNS` to (R,) arrays, one entry per path of every flow
    (the network's routes, flow by flow: ``Network.route_flow``), and ``route_paths`` holds each one's node path;
    otherwise ``routes`` is None and ``route_paths`` empty.
    """

    flow_src: np.ndarray
    flow_dst: np.ndarray
    paths: tuple[tuple[int, ...], ...]
    flows: dict[str, np.ndarray]
    link_src: np.ndarray
    link_dst: np.ndarray
    links: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, np.ndarray] | None = None
    route_paths: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def from_network(
        cls,
        network: Network,
        flows: dict[str, np.ndarray],
        links: dict[str, np.ndarray],
        meta: dict[str, Any],
        routes: dict[str, np.ndarray] | None = None,
    ) -> SimResult:
        """Wrap engine output for ``network``, checking that every column is present with the right length.

        ``routes`` holds :data:`ROUTE_COLUMNS` per route of the network; kept only when some flow splits.
        """
        keep_routes = routes is not None and network.multipath
        checks = [(FLOW_COLUMNS, flows, network.n_flows, "flow"), (LINK_COLUMNS, links, network.n_links, "link")]
        if keep_routes:
            checks.append((ROUTE_COLUMNS, routes, len(network.route_flow), "route"))
        for cols, data, n, what in checks:
            for c in cols:
                if c not in data or len(data[c]) != n:
                    raise ValueError(f"engine output lacks {what} column '{c}' of length {n}")
        table, route_paths = None, ()
        if keep_routes:
            table = {
                "flow": network.route_flow.copy(),
                "share": network.route_share.copy(),
                **{c: np.asarray(routes[c]) for c in ROUTE_COLUMNS},  # type: ignore[index]
            }
            route_paths = tuple(nodes for i in range(network.n_flows) for nodes in network.route_nodes(i))
        return cls(
            flow_src=np.array([f.src for f in network.flows], dtype=np.int64),
            flow_dst=np.array([f.dst for f in network.flows], dtype=np.int64),
            paths=tuple(network.path_nodes(i) for i in range(network.n_flows)),
            flows={c: np.asarray(flows[c]) for c in FLOW_COLUMNS},
            link_src=network.link_src.copy(),
            link_dst=network.link_dst.copy(),
            links={c: np.asarray(links[c]) for c in LINK_COLUMNS},
            meta=dict(meta),
            routes=table,
            route_paths=route_paths,
        )

    @property
    def n_flows(self) -> int:
        return len(self.flow_src)

    def kpi(self, name: str) -> np.ndarray:
        """(F,) array of one per-flow KPI."""
        try:
            return self.flows[name]
        except KeyError:
            raise KeyError(f"unknown KPI '{name}'; known: {', '.join(self.flows)}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: ``flows[]`` and ``links[]`` as records, ``routes[]`` (flow, share, node path and
        KPIs of every path of every flow) when the result has them, plus ``meta``."""
        flows = [
            {
                "src": int(self.flow_src[i]),
                "dst": int(self.flow_dst[i]),
                "path": list(self.paths[i]),
                **{c: _scalar(v[i]) for c, v in self.flows.items()},
            }
            for i in range(self.n_flows)
        ]
        links = [
            {
                "src": int(self.link_src[i]),
                "dst": int(self.link_dst[i]),
                **{c: _scalar(v[i]) for c, v in self.links.items()},
            }
            for i in range(len(self.link_src))
        ]
        out: dict[str, Any] = {"flows": flows, "links": links}
        if self.routes is not None:
            out["routes"] = [
                {
                    "flow": int(self.routes["flow"][r]),
                    "share": float(self.routes["share"][r]),
                    "path": list(self.route_paths[r]),
                    **{c: _scalar(self.routes[c][r]) for c in ROUTE_COLUMNS},
                }
                for r in range(len(self.route_paths))
            ]
        out["meta"] = self.meta
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimResult:
        """Inverse of :meth:`to_dict`."""
        fl, ln, rt = data["flows"], data["links"], data.get("routes")
        routes = None
        if rt is not None:
            routes = {
                "flow": np.array([r["flow"] for r in rt], dtype=np.int64),
                "share": np.array([r["share"] for r in rt], dtype=float),
                **{c: np.array([_unscalar(r[c]) for r in rt]) for c in ROUTE_COLUMNS},
            }
        return cls(
            flow_src=np.array([r["src"] for r in fl], dtype=np.int64),
            flow_dst=np.array([r["dst"] for r in fl], dtype=np.int64),
            paths=tuple(tuple(r["path"]) for r in fl),
            flows={c: np.array([_unscalar(r[c]) for r in fl]) for c in FLOW_COLUMNS},
            link_src=np.array([r["src"] for r in ln], dtype=np.int64),
            link_dst=np.array([r["dst"] for r in ln], dtype=np.int64),
            links={c: np.array([_unscalar(r[c]) for r in ln]) for c in LINK_COLUMNS},
            meta=dict(data.get("meta", {})),
            routes=routes,
            route_paths=tuple(tuple(r["path"]) for r in rt) if rt is not None else (),
        )

    def save(self, path: str | Path) -> None:
        """Write as JSON, atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> SimResult:
        """Read a JSON file written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def _scalar(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    v = float(v)
    return None if np.isnan(v) else v


def _unscalar(v: Any) -> float:
    return np.nan if v is None else v
