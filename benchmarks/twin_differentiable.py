"""Speed of the differentiable prediction path against ``predict``.

Usage::

    python benchmarks/twin_differentiable.py                     # NSFNET, 60 random flows, B = 1 and 64, CPU
    python benchmarks/twin_differentiable.py --device cuda --batch 1,64,1024

A GLANCE twin (briefly trained: speed does not depend on the weights) with its default inputs and one with the
scale-free inputs (queueing theory's estimates among them, so the fixed point is solved and differentiated too);
for each batch size B it prints the median wall time (of ``--repeats``, after one warm-up) of a forward pass over B
settings of the flows' rates, of the backward pass of the summed delays, and of ``twin.predict`` on B copies of the
network (no gradients). Every figure comes from the run that prints it; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin import Twin, scale_free_options
from nettwin.twin.differentiable import DifferentiableTwin


def _network(flows: int, seed: int):
    rng = np.random.default_rng(seed)
    pairs = [(int(s), int(d)) for s, d in rng.integers(0, 14, (4 * flows, 2)) if s != d][:flows]
    traffic = [{"model": "poisson", "rate": f"{r:.0f}kbps"} for r in rng.uniform(50, 400, len(pairs))]
    return build_network(
        parse_scenario(
            {
                "name": "nsfnet",
                "topology": {"builtin": "nsfnet", "defaults": {"capacity": "10Mbps"}},
                "flows": [{"src": s, "dst": d, "traffic": t} for (s, d), t in zip(pairs, traffic, strict=True)],
            }
        )
    )


def _median(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _measure(twin: Twin, f: DifferentiableTwin, net, b: int, repeats: int) -> tuple[float, float, float]:
    """Seconds of a forward pass over ``b`` settings, of its backward pass, and of ``predict`` on ``b`` networks."""
    rate = (f.parameters()["rate"] * torch.ones(b, 1, dtype=torch.float64, device=f.device)).requires_grad_(True)
    forward = _median(lambda: f(rate=rate)["delay"], repeats)
    both = _median(lambda: f(rate=rate)["delay"].sum().backward(), repeats)
    return forward, both - forward, _median(lambda: twin.predict([net] * b), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=60)
    parser.add_argument("--batch", default="1,64", help="batch sizes B, comma-separated")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # settings outside the (tiny) training ranges
    net = _network(args.flows, args.seed)
    data = [(net, {"delay": np.full(net.n_flows, 1e-3)})]
    print(f"NSFNET: {net.n_links} links, {net.n_flows} flows; device {args.device}, {args.threads} thread(s)")
    print(f"{'inputs':<11} {'B':>5} {'forward ms':>11} {'backward ms':>12} {'predict ms':>11}")
    for inputs, options in (("default", None), ("scale-free", scale_free_options("glance"))):
        twin = Twin("glance", kpis=["delay"], epochs=1, device=args.device, options=options, relative_delay=True)
        twin.fit(data)
        f = DifferentiableTwin(twin, net)
        for b in (int(x) for x in args.batch.split(",")):
            fwd, back, pred = _measure(twin, f, net, b, args.repeats)
            print(f"{inputs:<11} {b:>5} {1e3 * fwd:>11.1f} {1e3 * back:>12.1f} {1e3 * pred:>11.1f}")


if __name__ == "__main__":
    main()
