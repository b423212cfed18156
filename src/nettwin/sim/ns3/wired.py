"""Wired networks in ns-3: point-to-point links with DropTail queues, and static routes on the scenario's paths.

Runs inside a worker (it needs ns-3). Each directed link becomes one point-to-point device with the link's data
rate and a DropTail queue of ``buffer`` packets; a link and its reverse share a channel when their delays are
equal, otherwise each gets its own channel. ns-3's default traffic-control queue (FqCoDel) is removed, so
packets wait only in the device queue, which holds the packets waiting behind the one being sent (nettwin's
``buffer``). Every flow gets its own destination address (an alias on the destination's loopback), and static
host routes for that address along the flow's path make ns-3 forward exactly on it, whatever other flows to the
same node do. With ``routing: global`` flows go to the destination's interface address and ns-3's global
routing picks the paths; the paths packets took are then recorded.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_wired", "SINK_PORT"]

SINK_PORT = 9
MTU = 65535


def _flow_address(f: int) -> str:
    """A /32 address of its own for flow ``f`` (11.0.0.1, 11.0.0.2, ...)."""
    k = f + 1
    return f"11.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


def _channels(job: dict[str, Any]) -> list[tuple[int, int | None]]:
    """Pairs (link, reverse link or None) sharing a channel: reverse links with an equal delay pair up."""
    links = job["links"]
    src, dst, delay = links["src"], links["dst"], links["delay"]
    open_rev: dict[tuple[int, int], list[int]] = {}
    pairs: list[tuple[int, int | None]] = []
    index: dict[int, int] = {}
    for ln in range(len(src)):
        waiting = open_rev.get((src[ln], dst[ln]), [])
        match = next((p for p in waiting if delay[pairs[index[p]][0]] == delay[ln]), None)
        if match is not None:
            waiting.remove(match)
            pairs[index[match]] = (pairs[index[match]][0], ln)
            continue
        index[ln] = len(pairs)
        pairs.append((ln, None))
        open_rev.setdefault((dst[ln], src[ln]), []).append(ln)
    return pairs


def build_wired(job: dict[str, Any], ns: Any, nt: Any, recorder: Any) -> float:
    """Build the topology, routes, sinks and sources of ``job``; return the time to stop the simulation at."""
    links, flows = job["links"], job["flows"]
    n_links = len(links["src"])
    static = job["options"]["routing"] == "static"

    nodes = ns.NodeContainer()
    nodes.Create(job["n_nodes"])
    stack = ns.InternetStackHelper()
    if static:
        stack.SetRoutingHelper(ns.Ipv4StaticRoutingHelper())
    stack.Install(nodes)

    p2p = ns.PointToPointHelper()
    addresses = ns.Ipv4AddressHelper()
    addresses.SetBase(ns.Ipv4Address("10.0.0.0"), ns.Ipv4Mask("255.255.255.252"))
    all_devices = ns.NetDeviceContainer()
    device: list[Any] = [None] * n_links
    gateway: list[str] = [""] * n_links  # address of the link's far end
    rates = [max(1, round(c)) for c in links["capacity"]]
    for ln, r in _channels(job):
        u, v = links["src"][ln], links["dst"][ln]
        p2p.SetChannelAttribute("Delay", ns.TimeValue(ns.NanoSeconds(round(links["delay"][ln] * 1e9))))
        devs = p2p.Install(nodes.Get(u), nodes.Get(v))
        ifaces = addresses.Assign(devs)
        addresses.NewNetwork()
        all_devices.Add(devs)
        back = ln if r is None else r  # an unpaired link's reverse device is idle; give it the link's settings
        nt.ConfigureP2p(devs.Get(0), rates[ln], int(links["buffer"][ln]), MTU)
        nt.ConfigureP2p(devs.Get(1), rates[back], int(links["buffer"][back]), MTU)
        device[ln], gateway[ln] = devs.Get(0), _addr(ifaces.GetAddress(1))
        if r is not None:
            device[r], gateway[r] = devs.Get(1), _addr(ifaces.GetAddress(0))
    nt.UninstallQueueDiscs(all_devices)
    for ln in range(n_links):
        recorder.AttachLink(device[ln], ln, float(rates[ln]))

    destination: list[str] = []
    if static:
        helper = ns.Ipv4StaticRoutingHelper()
        routing = [helper.GetStaticRouting(nodes.Get(n).GetObject[ns.Ipv4]()) for n in range(job["n_nodes"])]
        mask = ns.Ipv4Mask("255.255.255.255")
        for f, flow in enumerate(flows):
            addr = _flow_address(f)
            ipv4 = nodes.Get(flow["dst"]).GetObject[ns.Ipv4]()
            ipv4.AddAddress(0, ns.Ipv4InterfaceAddress(ns.Ipv4Address(addr), mask))
            for ln in flow["path"]:
                u = links["src"][ln]
                iface = nodes.Get(u).GetObject[ns.Ipv4]().GetInterfaceForDevice(device[ln])
                routing[u].AddHostRouteTo(ns.Ipv4Address(addr), ns.Ipv4Address(gateway[ln]), iface)
            destination.append(addr)
    else:
        ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()
        recorder.tracePaths = True
        for n in range(job["n_nodes"]):
            recorder.AttachNode(nodes.Get(n))
        for ln in range(n_links):
            recorder.AddLinkKey(links["src"][ln], links["dst"][ln], ln)
        for flow in flows:
            destination.append(_addr(nodes.Get(flow["dst"]).GetObject[ns.Ipv4]().GetAddress(1, 0).GetLocal()))

    add_traffic(job, ns, nt, recorder, nodes, destination, offset=0.0)
    return job["duration"] + _drain_bound(job) + 1.0


def add_traffic(
    job: dict[str, Any], ns: Any, nt: Any, recorder: Any, nodes: Any, destination: list[str], offset: float
) -> None:
    """Sinks on every destination node and one source per flow, starting at ``offset`` seconds."""
    flows = job["flows"]
    for n in sorted({flow["dst"] for flow in flows}):
        recorder.AttachSink(nodes.Get(n), SINK_PORT)
    models = {"cbr": 0, "poisson": 1, "onoff": 2}
    dists = {"fixed": 0, "exponential": 1, "binomial": 2}
    for f, flow in enumerate(flows):
        recorder.SetFlow(f, flow["src"], flow["dst"])
        source = nt.MakeSource()
        nodes.Get(flow["src"]).AddApplication(source)
        source.Configure(
            recorder,
            f,
            ns.Ipv4Address(destination[f]),
            SINK_PORT,
            models[flow["model"]],
            flow["rate"],
            flow["tau_on"],
            flow["tau_off"],
            dists[flow["size_dist"]],
            flow["size_mean"],
            flow["size_small"],
            flow["size_large"],
            flow["size_p"],
            job["header_bytes"],
            offset,
            job["duration"],
        )
        source.AssignStreams(2 * f)
        source.SetStartTime(ns.Seconds(offset))


def _addr(address: Any) -> str:
    """An ns-3 address as dotted text (cppyy maps ``operator<<`` to ``str``)."""
    return str(address)


def _drain_bound(job: dict[str, Any]) -> float:
    """A loose upper bound on how long a packet sent before ``duration`` can stay in the network (s).

    The simulation ends by itself once the network is empty (nothing periodic runs on wired networks); the bound
    only guards against a run that would never end.
    """
    links, flows = job["links"], job["flows"]
    biggest = max(max(f["size_mean"], f["size_large"]) for f in flows) * 8 * 20  # generous for exponential sizes
    return sum(
        (b + 1) * biggest / c + d for b, c, d in zip(links["buffer"], links["capacity"], links["delay"], strict=True)
    )
