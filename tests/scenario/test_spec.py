"""Scenario validation: every bad input gets one line naming the field and the problem."""

import copy

import pytest

from nettwin.errors import ScenarioError, UnknownNode, Unreachable
from nettwin.scenario import build_network, dump_scenario, load_scenario, parse_scenario


def _bad(square, path: str, value):
    data = copy.deepcopy(square)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("topology.colour", "red", r"^topology\.colour: unknown key$"),
        ("topology.[red]x[/red]", 1, r"^topology\.\[red\]x\[/red\]: unknown key$"),
        ("flows.0.traffic.int", 1, r"^flows\[0\]\.traffic\.int: unknown key$"),
        ("flows.0.traffic.rate", "-5kbps", r"flows\[0\]\.traffic\.rate: cannot read .-5kbps. as a rate: .*negative"),
        ("flows.0.traffic.rate", 0, r"flows\[0\]\.traffic\.rate: .*greater than 0, got 0"),
        ("flows.0.traffic.rate", "10Mbs", r"flows\[0\]\.traffic\.rate: cannot read '10Mbs' as a rate"),
        ("flows.0.traffic.model", "burst", r"flows\[0\]\.traffic\.model: .*'cbr', 'poisson', 'onoff', .* or 'ppbp'"),
        ("topology.links.0.capacity", 0, r"topology\.links\[0\]\.capacity: .*greater than 0"),
        (
            "topology.links.0.delay",
            "-1ms",
            r"topology\.links\[0\]\.delay: cannot read '-1ms' as a duration: .*negative",
        ),
        ("flows", [], r"^flows: .*at least 1"),
        ("simulation", {"duration": "1s", "warmup": "2s"}, r"warmup \(2 s\) must be shorter than duration \(1 s\)"),
        ("topology.builtin", "nsfnet", r"exactly one topology source.*builtin, nodes"),
        ("topology.wireless", {"rate": "6Mbps"}, r"^topology\.wireless\.rate: 802\.11b sends at 1Mbps, 2Mbps"),
    ],
)
def test_field_errors_are_one_line_each(square, path, value, message):
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(_bad(square, path, value))
    assert len(str(info.value).splitlines()) == 1


def test_several_problems_give_one_line_each(square):
    data = _bad(square, "flows.0.traffic.rate", 0)
    data["flows"][0]["traffic"]["colour"] = "red"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert any("traffic.colour: unknown key" in line for line in lines)


def test_onoff_needs_taus(square):
    data = _bad(square, "flows.0.traffic", {"model": "onoff", "rate": "50kbps", "tau_on": 1})
    with pytest.raises(ScenarioError, match=r"flows\[0\]\.traffic: onoff traffic needs tau_off"):
        parse_scenario(data)


def test_binomial_size_needs_sizes(square):
    data = _bad(square, "flows.0.traffic.packet_size", {"dist": "binomial", "mean": 100})
    with pytest.raises(ScenarioError, match="binomial packet size needs 'sizes"):
        parse_scenario(data)


@pytest.mark.parametrize(
    ("flow", "error", "message"),
    [
        ({"src": "a", "dst": "zz"}, UnknownNode, r"flows\[0\]\.dst: unknown node 'zz'"),
        (
            {"src": 7, "dst": "a"},
            UnknownNode,
            r"flows\[0\]\.src: node 7 does not exist \(the topology has nodes 0\.\.3\)",
        ),
        ({"src": "b", "dst": "b"}, ScenarioError, r"flows\[0\]: src and dst are the same node 'b'"),
        (
            {"src": "a", "dst": "c", "path": ["a", "d", "b", "c"]},
            ScenarioError,
            r"flows\[0\]\.path: not contiguous, there is no link d→b",
        ),
        ({"src": "a", "dst": "c", "path": ["b", "c"]}, ScenarioError, r"must start at the flow's src 'a'"),
    ],
)
def test_flow_problems(square, flow, error, message):
    data = copy.deepcopy(square)
    data["flows"][0].update(flow)
    with pytest.raises(error, match=message):
        build_network(parse_scenario(data))


def test_unreachable_destination(square):
    data = copy.deepcopy(square)
    data["topology"]["nodes"].append("island")
    data["flows"][0]["dst"] = "island"
    with pytest.raises(Unreachable, match="routing: flow a→island: destination unreachable"):
        build_network(parse_scenario(data))


def test_override_of_missing_link(square):
    data = copy.deepcopy(square)
    data["topology"]["overrides"] = [{"src": "b", "dst": "d", "capacity": "1Mbps"}]
    # overrides apply to explicit topologies too, and must name existing links
    with pytest.raises(ScenarioError, match=r"topology\.overrides\[0\]: the topology has no link b→d"):
        build_network(parse_scenario(data))


def test_wireless_needs_positions(square):
    data = copy.deepcopy(square)
    data["topology"]["medium"] = "wireless"
    del data["topology"]["links"]
    with pytest.raises(ScenarioError, match="wireless topology needs node positions"):
        build_network(parse_scenario(data))


def test_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("topology: [unclosed\n")
    with pytest.raises(ScenarioError, match="bad.yaml: not valid YAML"):
        load_scenario(bad)
    listy = tmp_path / "list.json"
    listy.write_text("[1, 2]")
    with pytest.raises(ScenarioError, match="expected a mapping at the top level, got list"):
        load_scenario(listy)


def test_units_are_stored_in_si(square):
    data = copy.deepcopy(square)
    data["flows"][0]["traffic"] = {
        "model": "onoff",
        "rate": "50kbps",
        "packet_size": "1.5kB",
        "tau_on": "10ms",
        "tau_off": "2s",
    }
    data["topology"]["defaults"] = {"capacity": "2Mbps", "delay": "3ms", "buffer": 7}
    sc = parse_scenario(data)
    t = sc.flows[0].traffic
    assert (t.rate, t.packet_size.mean_bytes, t.tau_on, t.tau_off) == (50e3, 1500.0, 0.01, 2.0)
    assert t.mean_rate == pytest.approx(50e3 * 0.01 / 2.01)
    net = build_network(sc)
    assert set(net.capacity) == {2e6} and set(net.delay) == {3e-3} and set(net.buffer) == {7}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip_through_files(square, tmp_path, suffix):
    sc = parse_scenario(square)
    path = tmp_path / f"sc{suffix}"
    dump_scenario(sc, path)
    assert load_scenario(path) == sc


def test_example_scenario_loads():
    from pathlib import Path

    sc = load_scenario(Path(__file__).parents[2] / "examples" / "nsfnet.yaml")
    net = build_network(sc)
    assert (net.n_nodes, net.n_links, net.n_flows) == (14, 42, 14)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("flows.0.src", True, "flows[0].src: a node is a name or a number, got True"),
        ("flows.0.dst", [1], "flows[0].dst: a node is a name or a number, got [1]"),
        (
            "topology.nodes.0",
            {"id": 0},
            "topology.nodes[0]: a node is a name, a number, or {name, x, y}, got {'id': 0}",
        ),
        ("topology.nodes.0", True, "topology.nodes[0]: a node is a name, a number, or {name, x, y}, got True"),
        ("topology.nodes.0", 1.5, "topology.nodes[0]: a node is a name, a number, or {name, x, y}, got 1.5"),
        ("topology.links.0.weight", True, "topology.links[0].weight: expected a number, got a boolean (true)"),
        ("simulation", {"seed": False}, "simulation.seed: expected a number, got a boolean (false)"),
        (
            "topology.links.0.buffer",
            10**9,
            "topology.links[0].buffer: must be at most 1000000 (a million packets, beyond any router), got 1000000000",
        ),
        (
            "flows.0.traffic.packet_size",
            {"mean": 1e308},
            "flows[0].traffic.packet_size.mean: must be at most 65535 B (the IPv4 maximum), got 1e+308 B",
        ),
        (
            "flows.0.traffic.packet_size",
            {"mean": 100, "p": 0.2},
            "flows[0].traffic.packet_size: a fixed packet size takes 'mean', not 'p' (p applies to binomial sizes)",
        ),
        (
            "flows.0.traffic.rate",
            "2000Tbps",
            "flows[0].traffic.rate: must be at most 1000 Tbps (the fastest rate nettwin accepts), got 2000 Tbps",
        ),
        (
            "flows.0.traffic.rate",
            "1e300Tbps",
            "flows[0].traffic.rate: cannot read '1e300Tbps' as a rate: the value is too large",
        ),
        ("topology.capacity_scale", float("inf"), "topology.capacity_scale: Input should be a finite number, got inf"),
        (
            "simulation",
            {"duration": "1e9s"},
            "simulation.duration: must be at most 1000000 s (about 11.6 days, the longest time nettwin simulates), "
            "got 1000000000 s",
        ),
        (
            "simulation",
            {"duration": "1e-12s"},
            "simulation.duration: the flows are expected to send 1.3e-11 packets in the measured window "
            "(duration - warmup = 0.00100 ns); make duration at least 80.0 ms so that they send one",
        ),
        (
            "topology.wireless",
            {"exponent": 2},
            "topology.wireless: radio settings apply to medium: wireless only",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line(square, path, value, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(_bad(square, path, value))
    assert str(info.value) == message


WIRELESS_PAIR = {"medium": "wireless", "nodes": [{"name": "a", "x": 0, "y": 0}, {"name": "b", "x": 50, "y": 0}]}


@pytest.mark.parametrize(
    ("topology", "message"),
    [
        (
            {**WIRELESS_PAIR, "links": [{"src": "a", "dst": "b", "capacity": "2Mbps"}]},
            "topology.links[0].capacity: wireless links all send at topology.wireless.rate; leave it out",
        ),
        (
            {**WIRELESS_PAIR, "links": []},
            "topology.links: an explicit neighbour graph needs at least one link; leave 'links' out to take the "
            "links from radio range",
        ),
        (
            {**WIRELESS_PAIR, "wireless": {"range": "35m", "rx_sensitivity": -82}},
            "topology.wireless.range: give the radio range or rx_sensitivity, not both (each sets the other through "
            "the path-loss model)",
        ),
        (
            {**WIRELESS_PAIR, "wireless": {"range": "35 parsecs"}},
            "topology.wireless.range: cannot read '35 parsecs' as a distance: expected a number with a unit such as "
            "35m, 1.2km",
        ),
        (
            {**WIRELESS_PAIR, "wireless": {"range": "50cm"}},
            "topology.wireless.range: Input should be greater than or equal to 1, got '50cm'",
        ),
        (
            {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "buffer": 31, "queue": 32}]},
            "topology.links[0].queue: give buffer (packets waiting, excluding the one being sent) or queue (all "
            "packets, the one being sent included), not both",
        ),
        (
            {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}], "defaults": {"queue": 0}},
            "topology.defaults.queue: must be between 1 (the packet being sent) and 1000001, got 0",
        ),
        (
            {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}], "defaults": {"queue": "many"}},
            "topology.defaults.queue: cannot read 'many' as a count: expected a number with a unit such as 32, 100",
        ),
        (
            {**WIRELESS_PAIR, "defaults": {"capacity": "5Mbps"}},
            "topology.defaults.capacity: wireless links all send at topology.wireless.rate; leave it out",
        ),
        (
            {**WIRELESS_PAIR, "defaults": {"weight": 2}},
            "topology.defaults.weight: wireless links all are weighted by distance; leave it out",
        ),
        (
            {**WIRELESS_PAIR, "wireless": {"exponent": 1e-9}},
            "topology.wireless: these settings give a radio range beyond 10,000 km; check tx_power, rx_sensitivity, "
            "reference_loss and exponent",
        ),
        (
            {"grid": {"rows": 100_000, "cols": 100_000}},
            "topology.grid: a 100000 x 100000 grid has 10000000000 nodes; at most 10000 are accepted (a wireless "
            "medium compares every pair of nodes)",
        ),
    ],
)
def test_topology_settings_that_would_be_ignored_or_overflow_are_refused(topology, message):
    data = {"topology": topology, "flows": [{"src": 0, "dst": 1, "traffic": {"model": "cbr", "rate": "10kbps"}}]}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    assert str(info.value) == message


def test_integer_nodes_are_names():
    data = {
        "topology": {
            "nodes": [0, 1, {"name": 2}],
            "links": [{"src": 0, "dst": 1}, {"src": 1, "dst": 2}],
        },
        "flows": [{"src": 0, "dst": 2, "traffic": {"model": "cbr", "rate": "10kbps"}, "path": [0, "1", 2]}],
    }
    sc = parse_scenario(data)
    assert sc.topology.nodes[:2] == ["0", "1"] and sc.topology.nodes[2].name == "2"
    net = build_network(sc)
    assert net.nodes == ("0", "1", "2") and net.path_nodes(0) == (0, 1, 2)
    assert parse_scenario(dump_scenario(sc)) == sc


def test_a_queue_counts_the_packet_being_sent_and_reads_as_a_buffer():
    flows = [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "10kbps"}}]
    by_queue = {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "queue": "32 packets"}]}
    by_buffer = {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "buffer": 31}]}
    sc = parse_scenario({"topology": by_queue, "flows": flows})
    assert sc == parse_scenario({"topology": by_buffer, "flows": flows})
    assert build_network(sc).buffer.tolist() == [31, 31]
    assert parse_scenario(dump_scenario(sc)) == sc
    defaults = parse_scenario(
        {"topology": {**by_buffer, "links": [{"src": "a", "dst": "b"}], "defaults": {"queue": 1}}, "flows": flows}
    )
    assert defaults.topology.defaults.buffer == 0 and defaults.topology.defaults.queue is None
