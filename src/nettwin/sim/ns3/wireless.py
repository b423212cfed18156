"""Wireless networks in ns-3: 802.11b ad hoc with OLSR, GLANCE's setting.

Runs inside a worker (it needs ns-3). Nodes sit at the scenario's positions; YansWifiPhy with log-distance path
loss (the scenario's exponent and reference loss at 1 m, GLANCE's 3 and 46.67 dB by default), the scenario's
transmit power and receiver sensitivity, and a constant-rate manager at the scenario's 802.11b rate. When the
scenario's links are a given neighbour graph rather than the pairs within radio range, a loss matrix takes the
path-loss model's place: linked pairs lose what the model says at their distance, all other pairs cannot hear each
other at all (neither frames nor interference), as if walls stood between them. OLSR runs
alone for ``olsr_warmup`` seconds before the sources start, so routes exist when traffic begins; scenario time 0
is ns-3 time ``olsr_warmup``. Every packet's path is traced, so the result holds each flow's path as ns-3 routed
it after the warm-up and how often it changed. A scenario packet size is the IP datagram (UDP payload + 28 B); the
Wi-Fi MAC adds its own framing on top, as on any real Wi-Fi link. The default traffic-control queue is removed, as
on wired links, so packets wait in the Wi-Fi MAC queue only.
"""

from __future__ import annotations

from typing import Any

from nettwin.sim.ns3.wired import add_traffic

__all__ = ["build_wireless", "WIFI_STREAM"]

WIFI_STREAM = 1_000_000
"""First random-stream index of the Wi-Fi devices and OLSR (flows use 0 .. 2F−1)."""


def build_wireless(job: dict[str, Any], ns: Any, nt: Any, recorder: Any) -> float:
    """Build the radio network, OLSR, sinks and sources of ``job``; return the time to stop the simulation at."""
    opts, radio = job["options"], job["radio"]
    n = job["n_nodes"]
    nodes = ns.NodeContainer()
    nodes.Create(n)
    import cppyy

    vector = cppyy.gbl.std.vector["double"]
    xs = vector([float(p[0]) for p in job["positions"]])
    ys = vector([float(p[1]) for p in job["positions"]])
    devices = nt.InstallAdhocWifi(
        nodes,
        xs,
        ys,
        radio["exponent"],
        radio["reference_loss"],
        radio["tx_power"],
        radio["rx_sensitivity"],
        radio["mode"],
        WIFI_STREAM,
        cppyy.gbl.std.vector["int"](radio["graph"]["src"]),
        cppyy.gbl.std.vector["int"](radio["graph"]["dst"]),
        vector(radio["graph"]["loss"]),
    )
    nt.InstallOlsrStack(nodes, WIFI_STREAM + 10_000)
    addresses = ns.Ipv4AddressHelper()
    addresses.SetBase(ns.Ipv4Address("10.1.0.0"), ns.Ipv4Mask("255.255.0.0"))
    ifaces = addresses.Assign(devices)
    nt.UninstallQueueDiscs(devices)

    recorder.tracePaths = True
    for i in range(n):
        recorder.AttachNode(nodes.Get(i))
        recorder.AttachWifi(devices.Get(i))
    links = job["links"]
    for ln, (u, v) in enumerate(zip(links["src"], links["dst"], strict=True)):
        recorder.AddLinkKey(u, v, ln)
    destination = [str(ifaces.GetAddress(flow["dst"])) for flow in job["flows"]]
    offset = float(opts["olsr_warmup"])
    add_traffic(job, ns, nt, recorder, nodes, destination, offset=offset)
    return offset + job["duration"] + float(opts["drain"])
