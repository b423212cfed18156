"""Hypothesis strategies: valid scenarios and dataset specs drawn from their schemas, and the ways to break them.

A generated case is a :class:`Doc`: a mapping (or raw text) plus what is known about it — whether it must be
refused, and which texts the error must name. Valid documents are kept cheap by construction: tiny topologies,
seconds of simulated time and kbit/s rates, so a case costs milliseconds.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from nettwin.data.spec import DatasetSpec
from nettwin.scenario.spec import Scenario

__all__ = [
    "Doc",
    "HugeInt",
    "Deep",
    "scenarios",
    "dataset_specs",
    "broken",
    "render",
    "junk_values",
    "FIELD_NAMES",
]

BUILTIN_NODES = {"nsfnet": 14, "geant2": 24, "gbn": 17}

PLAIN_NAMES = ["a", "b", "c", "d", "e", "core1", "edge-2", "r.3"]
ODD_NAMES = ["Zürich", "東京", "узел", "[red]x[/red]", "[/b]", "[link=y]z", "a b", "n😀", "[bold]"]

MARKUP_TEXT = ["[red]x[/red]", "[/red]", "[bold]", "[link=http://x]y[/link]", "[", "]", "[[x]]"]
UNICODE_TEXT = ["Zürich", "東京", "узел", "😀", "\u202e", "e\u0301", "\ufeff"]
UNIT_TEXT = [
    "10Mbps", "2ms", "1500B", "10 parsecs", "1e999", "-5ms", "1e-12s", "1.5.3kbps", "10MBps", "5 packets",
    "0x10", "NaN", "inf", "-inf", "1e308B", "1e308Tbps", "0s", "0bps", "1 2", "mbps", "ms", "1__0ms", "١٠ms",
]  # fmt: skip


class HugeInt:
    """An integer written with this many decimal digits (past Python's default int-from-text limit of 4300)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"HugeInt({self.digits})"


class Deep:
    """A list nested this many levels deep (``[[[...]]]``)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"


@dataclass
class Doc:
    """A generated input file: its content, format and what the command must do with it."""

    data: Any
    fmt: str = "yaml"  # yaml | json
    raw: str | bytes | None = None  # when set, the file's exact content (``data`` is ignored)
    must_fail: bool = False
    must_pass: bool = False
    must_name: list[str] = field(default_factory=list)
    mutations: list[str] = field(default_factory=list)
    extra_files: dict[str, Any] = field(default_factory=dict)  # relative name -> mapping, written next to it

    @property
    def suffix(self) -> str:
        return ".json" if self.fmt == "json" else ".yaml"


def _field_names(model: type, seen: set[type] | None = None) -> set[str]:
    """Every field name anywhere in a pydantic model tree (keys that are not 'unknown' somewhere)."""
    import typing

    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        stack = [info.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and hasattr(t, "model_fields"):
                names |= _field_names(t, seen)
            stack.extend(typing.get_args(t))
    return names


FIELD_NAMES = _field_names(Scenario) | _field_names(DatasetSpec)

# ----------------------------------------------------------------------------------------------- values


def _rate(draw: st.DrawFn, low: int = 20, high: int = 120) -> Any:
    k = draw(st.integers(low, high))
    return draw(st.sampled_from([f"{k}kbps", f"{k / 1000:g}Mbps", k * 1000, f"{k} kbit/s", f"{k * 1000}bps"]))


def _duration(draw: st.DrawFn, low_ms: int, high_ms: int) -> Any:
    ms = draw(st.integers(low_ms, high_ms))
    return draw(st.sampled_from([f"{ms}ms", ms / 1000, f"{ms / 1000:g}s", f"{ms * 1000}us"]))


def _size(draw: st.DrawFn) -> Any:
    b = draw(st.integers(100, 1000))
    return draw(st.sampled_from([f"{b}B", b, f"{b * 8}bit", f"{b / 1000:g}kB"]))


def _queue_size(draw: st.DrawFn) -> dict[str, int]:
    """A link's queue, as packets waiting (``buffer``) or all packets held (``queue``)."""
    return draw(st.sampled_from([{"buffer": draw(st.integers(0, 64))}, {"queue": draw(st.integers(1, 65))}]))


@st.composite
def _traffic(draw: st.DrawFn, rate: bool = True) -> dict[str, Any]:
    model = draw(st.sampled_from(["cbr", "poisson", "onoff"]))
    t: dict[str, Any] = {"model": model}
    if rate:
        t["rate"] = _rate(draw)
    shape = draw(st.sampled_from(["none", "scalar", "fixed", "exponential", "binomial"]))
    if shape == "scalar":
        t["packet_size"] = _size(draw)
    elif shape in ("fixed", "exponential"):
        t["packet_size"] = {"dist": shape, "mean": _size(draw)}
    elif shape == "binomial":
        t["packet_size"] = {
            "dist": "binomial",
            "sizes": [_size(draw), _size(draw)],
            "p": draw(st.sampled_from([0.2, 0.5])),
        }
    if model == "onoff":
        # On at least a third of the time, so that every valid scenario sends packets in its measured window.
        t["tau_on"] = _duration(draw, 500, 2000)
        t["tau_off"] = _duration(draw, 0, 1000)
    return t


# --------------------------------------------------------------------------------------------- scenarios


@st.composite
def _topology(draw: st.DrawFn, explicit_ok: bool = True) -> tuple[dict[str, Any], list[Any], list[list[Any]]]:
    """A topology mapping, the references that name its nodes, and the chain paths between them (or [])."""
    kind = draw(st.sampled_from(["explicit", "builtin", "grid"] if explicit_ok else ["builtin", "grid"]))
    topo: dict[str, Any]
    chain: list[list[Any]] = []
    if kind == "builtin":
        name = draw(st.sampled_from(sorted(BUILTIN_NODES)))
        topo, refs = {"builtin": name}, list(range(BUILTIN_NODES[name]))
    elif kind == "grid":
        rows, cols = draw(st.integers(1, 3)), draw(st.integers(2, 3))
        topo = {"grid": {"rows": rows, "cols": cols}}
        if draw(st.booleans()):
            topo["grid"]["spacing"] = draw(st.sampled_from([10, 100.0, 250]))
        refs = list(range(rows * cols))
    else:
        n = draw(st.integers(2, 5))
        style = draw(st.sampled_from(["plain", "odd", "index"]))
        if style == "index":
            names: list[Any] = list(range(n))
        else:
            pool = PLAIN_NAMES if style == "plain" else [*ODD_NAMES, *PLAIN_NAMES]
            names = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n, unique=True))
        placed = style != "index" and draw(st.booleans())  # positions for all nodes or for none
        nodes: list[Any] = [{"name": m, "x": 10.0 * i, "y": 0.0} if placed else m for i, m in enumerate(names)]
        links = []
        for i in range(n - 1):
            link: dict[str, Any] = {"src": names[i], "dst": names[i + 1]}
            if draw(st.booleans()):
                link["capacity"] = _rate(draw, 200, 2000)
            if draw(st.booleans()):
                link["delay"] = _duration(draw, 0, 5)
            if draw(st.booleans()):
                link.update(_queue_size(draw))
            links.append(link)
        topo, refs = {"nodes": nodes, "links": links}, names
        chain = [names[i : j + 1] for i in range(n) for j in range(i + 1, n)]
    if draw(st.booleans()):
        topo["defaults"] = {"capacity": _rate(draw, 200, 2000), "delay": _duration(draw, 0, 5)}
        if draw(st.booleans()):
            topo["defaults"].update(_queue_size(draw))
    if draw(st.integers(0, 4)) == 0:
        topo["capacity_scale"] = draw(st.sampled_from([0.5, 1, 2.5]))
    return topo, refs, chain


@st.composite
def scenarios(draw: st.DrawFn, max_flows: int = 3) -> dict[str, Any]:
    """A valid scenario mapping with a tiny topology, 1-``max_flows`` flows and 2-4 s of simulated time."""
    topo, refs, chain = draw(_topology())
    flows = []
    for _ in range(draw(st.integers(1, max_flows))):
        if chain and draw(st.booleans()):
            path = draw(st.sampled_from(chain))
            path = path[::-1] if draw(st.booleans()) else path
            flow: dict[str, Any] = {"src": path[0], "dst": path[-1], "traffic": draw(_traffic()), "path": path}
            kind = draw(st.sampled_from(["path", "routed", "paths"]))
            if kind == "routed":
                del flow["path"]
            elif kind == "paths":
                # Every chain path between the same two nodes, sharing the traffic.
                same = [p for p in chain + [c[::-1] for c in chain] if p[0] == path[0] and p[-1] == path[-1]]
                unique = [list(p) for p in dict.fromkeys(tuple(p) for p in same)]
                del flow["path"]
                flow["paths"] = [{"path": p, "share": 1 / len(unique)} for p in unique]
        else:
            i, j = draw(st.lists(st.integers(0, len(refs) - 1), min_size=2, max_size=2, unique=True))
            flow = {"src": refs[i], "dst": refs[j], "traffic": draw(_traffic())}
        flows.append(flow)
    duration_ms = draw(st.integers(2000, 4000))
    simulation: dict[str, Any] = {"duration": draw(st.sampled_from([f"{duration_ms}ms", duration_ms / 1000]))}
    if draw(st.booleans()):
        simulation["warmup"] = f"{duration_ms // 4}ms"
    if draw(st.booleans()):
        simulation["seed"] = draw(st.integers(0, 9))
    doc: dict[str, Any] = {"topology": topo, "flows": flows, "simulation": simulation}
    if draw(st.booleans()):
        doc["name"] = draw(st.sampled_from(["tiny", "fuzz-1", *ODD_NAMES]))
    if draw(st.integers(0, 3)) == 0:
        doc["routing"] = {"weight": draw(st.sampled_from(["hops", "weight", "delay", "inverse_capacity"]))}
        if draw(st.booleans()):
            doc["routing"].update(policy="ecmp", split=draw(st.sampled_from(["packet", "flow"])))
    return doc


# ------------------------------------------------------------------------------------------ dataset specs


def _dist(draw: st.DrawFn, value: Any, low: Any, high: Any, log_ok: bool = True) -> Any:
    form = draw(
        st.sampled_from(["plain", "choice", "uniform", "loguniform"] if log_ok else ["plain", "choice", "uniform"])
    )
    if form == "plain":
        return value
    if form == "choice":
        return {"choice": [low, value, high][: draw(st.integers(1, 3))]}
    return {form: [low, high]}


@st.composite
def dataset_specs(draw: st.DrawFn) -> Doc:
    """A valid dataset spec: 1-3 samples of a tiny scenario, each variation drawn from its real schema."""
    base = draw(scenarios(max_flows=2))
    base["simulation"]["duration"] = draw(st.sampled_from(["2s", 2.5, "3000ms"]))
    base["simulation"].pop("warmup", None)
    spec: dict[str, Any] = {"samples": draw(st.integers(1, 3))}
    if draw(st.booleans()):
        spec["name"] = draw(st.sampled_from(["tiny-set", *ODD_NAMES]))
    if draw(st.booleans()):
        spec["seed"] = draw(st.integers(0, 5))
    if draw(st.booleans()):
        spec["simbase_runs"] = draw(st.integers(0, 2))
    if draw(st.booleans()):
        spec["splits"] = draw(
            st.sampled_from([{"train": 0.5, "val": 0.25, "test": 0.25}, {"train": 1, "val": 0, "test": 0}])
        )
    if draw(st.booleans()):
        spec["shard_size"] = draw(st.integers(1, 3))
    flows_mode = draw(st.sampled_from(["fixed", "random", "matrix"]))
    plain_refs = all(isinstance(f["src"], int) for f in base["flows"])
    if flows_mode == "random":
        spec["flows"] = {"random": {"count": _dist(draw, 1, 1, 2, log_ok=False), "traffic": draw(_traffic())}}
        if draw(st.booleans()):
            del base["flows"]
    elif flows_mode == "matrix":
        topo, _, _ = draw(_topology(explicit_ok=False))
        if "builtin" in topo:  # a flow per ordered pair: keep the pair count small
            topo = {"grid": {"rows": 1, "cols": 3}}
        base["topology"] = topo
        base["flows"] = [{"src": 0, "dst": 1, "traffic": {"model": "cbr", "rate": "1kbps"}}]
        traffic = draw(_traffic(rate=False))
        traffic.pop("rate", None)
        spec["flows"] = {"matrix": {"model": draw(st.sampled_from(["uniform", "gravity"])), "traffic": traffic,
                                    "intensity": _dist(draw, "30kbps", "20kbps", "40kbps")}}  # fmt: skip
    variation: dict[str, Any] = {}
    if flows_mode != "matrix" and draw(st.booleans()):
        variation["rate"] = _dist(draw, "30kbps", "20kbps", "60kbps")
    if draw(st.booleans()):
        variation["tau_on"] = _dist(draw, "1s", "500ms", "2s")
    if draw(st.booleans()):
        variation["tau_off"] = _dist(draw, "500ms", "200ms", "1s")
    if draw(st.booleans()):
        variation["packet_size"] = _dist(draw, "500B", "200B", "1000B")
    if variation:
        spec["traffic"] = variation
    if draw(st.booleans()):
        spec["capacity_scale"] = _dist(draw, 1.0, 0.5, 1.5)
    if draw(st.integers(0, 3)) == 0:
        spec["routing"] = {"link_weights": _dist(draw, 1, 1, 4), "symmetric": draw(st.booleans())}
    if plain_refs and flows_mode == "fixed" and draw(st.integers(0, 3)) == 0:
        spec["topology"] = {"choices": [{"builtin": "nsfnet"}, {"builtin": "geant2"}]}
    elif "grid" in base["topology"] and draw(st.integers(0, 2)) == 0:
        spec["topology"] = {"perturb": _dist(draw, 5.0, 0.0, 10.0, log_ok=False)}
    doc = Doc(spec, fmt=draw(st.sampled_from(["yaml", "json"])))
    if draw(st.booleans()):
        spec["base"] = "base" + doc.suffix
        doc.extra_files["base" + doc.suffix] = base
    else:
        spec["base"] = base
    return doc


# ------------------------------------------------------------------------------------------------ mutations


def junk_values() -> st.SearchStrategy[Any]:
    """Values of every wrong kind: other types, out-of-range and non-finite numbers, bad units, odd text."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from([-1, -0.5, 1e-300, 1e300, -1e300, 2**63, 10**20, math.nan, math.inf, -math.inf]),
        st.sampled_from([HugeInt(5000), HugeInt(40), Deep(64), Deep(100_000)]),
        st.sampled_from(UNIT_TEXT + MARKUP_TEXT + UNICODE_TEXT + ["", " ", "true", "null", "~", "- x"]),
        st.text(max_size=12),
        st.lists(st.integers(-2, 2), max_size=3),
        st.dictionaries(st.sampled_from(["x", "choice", "mean", "[b]"]), st.integers(-1, 2), max_size=2),
    )


def _locations(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value below the root (mapping keys and list indices)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*path, k))
            out += _locations(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append((*path, i))
            out += _locations(v, (*path, i))
    return out


def _containers(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every mapping, the root included."""
    out = [path] if isinstance(data, dict) else []
    if isinstance(data, dict | list):
        for k, v in data.items() if isinstance(data, dict) else enumerate(data):
            out += _containers(v, (*path, k))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _node_names(data: Any) -> set[str]:
    """The names of the nodes a scenario (or a dataset spec's base) lists explicitly."""
    doc = data.get("base", data) if isinstance(data, dict) else {}
    topology = doc.get("topology") if isinstance(doc, dict) else None
    nodes = topology.get("nodes") if isinstance(topology, dict) else None
    if not isinstance(nodes, list):
        return set()
    names = (n.get("name") if isinstance(n, dict) else n for n in nodes)
    return {n for n in names if isinstance(n, str)}


def _node_ref_paths(data: Any) -> list[tuple[Any, ...]]:
    """Paths to the ``src``/``dst`` of fixed flows (in a scenario, or a dataset spec's base)."""
    return [p for p in _locations(data) if p[-1] in ("src", "dst") and p[-3:-2] == ("flows",) and "random" not in p]


MUTATIONS = ("replace", "delete", "unknown_key", "node_ref", "nesting", "duplicate_key", "document", "truncate")


@st.composite
def broken(draw: st.DrawFn, valid: st.SearchStrategy[Any], max_mutations: int = 3, strict_refs: bool = True) -> Doc:
    """A document from ``valid`` (mappings or :class:`Doc`) with 0 to ``max_mutations`` mutations.

    With no mutation the document must be accepted. With exactly one mutation of a kind that makes it wrong for
    sure, it must be refused, naming the key or value at fault. ``strict_refs``: a flow naming a node that does
    not exist must be refused (in a dataset spec a sample's flows may not come from the base, so it may not be).
    """
    made = draw(valid)
    doc = made if isinstance(made, Doc) else Doc(made, fmt=draw(st.sampled_from(["yaml", "json"])))
    doc.data = copy.deepcopy(doc.data)
    count = draw(st.integers(0, max_mutations))
    single = count == 1
    for _ in range(count):
        kind = draw(st.sampled_from(MUTATIONS))
        data = doc.data
        if kind == "replace":
            path = draw(st.sampled_from(_locations(data)))
            _get(data, path[:-1])[path[-1]] = draw(junk_values())
        elif kind == "delete":
            path = draw(st.sampled_from([p for p in _locations(data) if isinstance(p[-1], str)]))
            del _get(data, path[:-1])[path[-1]]
        elif kind == "unknown_key":
            path = draw(st.sampled_from(_containers(data)))
            key = draw(
                st.one_of(
                    st.sampled_from(["colour", "capacty", "Zürich", "[red]x[/red]", "[/b]", "ñ", "links2"]),
                    st.from_regex(r"\A[a-z_]{1,10}\Z"),
                )  # fmt: skip
            )
            target = _get(data, path)
            if key in FIELD_NAMES or key in target:
                continue
            target[key] = draw(st.sampled_from([1, "x", None, [1]]))
            if single:
                doc.must_fail, doc.must_name = True, [key]
        elif kind == "node_ref":
            places = _node_ref_paths(data)
            if not places:
                continue
            path = draw(st.sampled_from(places))
            value = draw(
                st.sampled_from([True, False, "nowhere", "[red]x[/red]", "[/b]", -1, 10**20, 1.5, "", "東京x"])
            )
            _get(data, path[:-1])[path[-1]] = value
            if value in _node_names(data):
                continue  # an odd name that happens to be a node of this topology: still a valid reference
            if single and strict_refs:
                doc.must_fail = True
                doc.must_name = [str(path[-1])] + ([value] if isinstance(value, str) and "[" in value else [])
        elif kind == "nesting":
            path = draw(st.sampled_from(_locations(data)))
            _get(data, path[:-1])[path[-1]] = Deep(draw(st.sampled_from([30, 1000, 100_000])))
        elif kind == "duplicate_key":
            keys = [k for k in data if isinstance(k, str)] if isinstance(data, dict) else []
            if not keys:
                continue
            key = draw(st.sampled_from(keys))
            doc.raw = render(doc, duplicate=key)
            doc.must_fail, doc.must_name = single, [key] if single else []
            doc.mutations.append(kind)
            return doc
        elif kind == "document":
            doc.raw = draw(
                st.one_of(
                    st.sampled_from(
                        [
                            "",
                            "\n",
                            "---\n",
                            "~",
                            "null",
                            "42",
                            "[1, 2]",
                            "- a\n- b\n",
                            "{",
                            "a: [",
                            "---\na: 1\n---\nb: 2\n",
                            "\ufeff{}",
                            "{}",
                            "\t\x0b",
                        ]
                    ),
                    st.binary(max_size=64),
                    st.text(max_size=64),
                )  # fmt: skip
            )
            doc.must_fail, doc.must_name = True, []
            doc.mutations.append(kind)
            return doc
        elif kind == "truncate":
            text = render(doc)
            doc.raw = text[: draw(st.integers(0, max(0, len(text) - 1)))]
            doc.must_fail, doc.must_name = False, []
            doc.mutations.append(kind)
            return doc
        doc.mutations.append(kind)
    doc.must_pass = not doc.mutations
    return doc


# ------------------------------------------------------------------------------------------------ rendering

_TOKEN = re.compile(r"""(['"]?)@@(\w+)@@\1""")


def render(doc: Doc, duplicate: str | None = None, data: Any = None) -> str:
    """The document as YAML or JSON text; :class:`HugeInt` and :class:`Deep` become their raw tokens.

    ``duplicate``: write that top-level key twice (the second time first, so that the first occurrence differs).
    """
    data = doc.data if data is None else data
    tokens: dict[str, str] = {}

    def plain(value: Any) -> Any:
        if isinstance(value, HugeInt):
            name = f"T{len(tokens)}"
            tokens[name] = "9" * value.digits
            return f"@@{name}@@"
        if isinstance(value, Deep):
            name = f"T{len(tokens)}"
            tokens[name] = "[" * value.depth + "]" * value.depth
            return f"@@{name}@@"
        if isinstance(value, dict):
            return {(k if isinstance(k, str) else str(k)): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    body = plain(data)
    if doc.fmt == "json":
        text = json.dumps(body, indent=1, ensure_ascii=False)
        if duplicate is not None and isinstance(body, dict):
            text = "{" + json.dumps(duplicate) + ": " + json.dumps("dup") + ",\n" + text[1:]
    else:
        text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1 << 20)
        if duplicate is not None and isinstance(body, dict):
            text = yaml.safe_dump({duplicate: "dup"}, allow_unicode=True) + text
    return _TOKEN.sub(lambda m: tokens.get(m.group(2), m.group(0)), text)
