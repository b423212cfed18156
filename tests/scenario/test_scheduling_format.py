"""Scheduled output ports and traffic classes in the scenario format: what they accept, how they resolve into the
network's arrays, and one line per mistake naming the field."""

from __future__ import annotations

import copy
from dataclasses import fields

import numpy as np
import pytest

from nettwin.errors import ScenarioError
from nettwin.scenario import build_network, dump_scenario, parse_scenario
from nettwin.scenario.network import DRR, FIFO, SP, WFQ

BASE = {
    "topology": {
        "nodes": ["a", "b", "c"],
        "defaults": {"buffer": 10},
        "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}],
    },
    "flows": [{"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "100kbps"}}],
}


def scenario(scheduler=None, *, tos=None, where=("links", 0), extra=None) -> dict:
    data = copy.deepcopy(BASE)
    if scheduler is not None:
        section, index = where
        target = data["topology"][section] if index is None else data["topology"][section][index]
        target["scheduler"] = scheduler
    if tos is not None:
        data["flows"][0]["tos"] = tos
    for key, value in (extra or {}).items():
        data["topology"][key] = value
    return data


def refused(data: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        build_network(parse_scenario(data))
    assert len(str(info.value).splitlines()) == 1, str(info.value)


def test_default_is_one_fifo_queue_of_the_link_buffer():
    net = build_network(parse_scenario(scenario()))
    assert net.policy.tolist() == [FIFO] * 4
    assert net.queue_ptr.tolist() == [0, 1, 2, 3, 4]
    assert net.queue_buffer.tolist() == net.buffer.tolist() == [10] * 4
    assert net.queue_weight.tolist() == [0.0] * 4
    assert net.tos.tolist() == [0] and not net.scheduled


def test_queues_resolve_sizes_weights_and_the_link_total():
    sched = {"policy": "drr", "queues": [{"weight": 50, "queue": 17}, {"weight": 30}, {"weight": 20, "buffer": 4}]}
    net = build_network(parse_scenario(scenario(sched, tos=2)))
    # links: a→b, b→a (the scheduled pair), b→c, c→b
    assert net.policy.tolist() == [DRR, DRR, FIFO, FIFO]
    assert net.queue_ptr.tolist() == [0, 3, 6, 7, 8]
    assert net.queue_buffer.tolist() == [16, 10, 4, 16, 10, 4, 10, 10]  # queue: 17 is buffer 16; none: the link's
    assert net.queue_weight.tolist() == [50, 30, 20, 50, 30, 20, 0, 0]
    assert net.buffer.tolist() == [30, 30, 10, 10]  # a scheduled link's buffer is the sum over its queues
    assert net.tos.tolist() == [2] and net.scheduled


def test_defaults_and_overrides_set_schedulers_and_an_overridden_buffer_sizes_unsized_queues():
    data = scenario(
        {"policy": "sp", "queues": [{}, {"buffer": 3}]},
        where=("defaults", None),
        extra={
            "overrides": [
                {"src": "b", "dst": "c", "buffer": 7, "bidirectional": False},
                {"src": "c", "dst": "b", "bidirectional": False, "scheduler": {"policy": "fifo"}},
                {
                    "src": "a",
                    "dst": "b",
                    "bidirectional": False,
                    "scheduler": {"policy": "wfq", "queues": [{"weight": 2}, {"weight": 1}]},
                },
            ]
        },
    )
    net = build_network(parse_scenario(data))
    assert net.policy.tolist() == [WFQ, SP, SP, FIFO]
    assert net.queue_buffer.tolist() == [10, 10, 10, 3, 7, 3, 10]
    assert net.buffer.tolist() == [20, 13, 10, 10]


def test_fifo_ports_serve_every_class():
    net = build_network(parse_scenario(scenario(tos=5)))
    assert net.flows[0].tos == 5


def test_the_format_round_trips():
    sched = {"policy": "wfq", "queues": [{"weight": 3, "queue": 5}, {"weight": 1}]}
    sc = parse_scenario(scenario(sched, tos=1))
    again = parse_scenario(dump_scenario(sc))
    assert again == sc
    assert "tos" not in dump_scenario(parse_scenario(scenario()))  # defaults stay out of files


@pytest.mark.parametrize(
    ("scheduler", "tos", "message"),
    [
        ({"policy": "rr", "queues": [{}]}, None, r"topology\.links\[0\]\.scheduler\.policy: .*'fifo', 'sp', 'wfq'"),
        ({"queues": [{}]}, None, r"topology\.links\[0\]\.scheduler\.policy: "),
        ({"policy": "sp", "queues": []}, None, r"topology\.links\[0\]\.scheduler\.queues: "),
        ({"policy": "fifo", "queues": [{}, {}]}, None, r"scheduler\.queues: fifo serves one queue, got 2"),
        ({"policy": "wfq", "queues": [{"weight": 1}, {}]}, None, r"queues\[1\]\.weight: wfq shares the link by weight"),
        ({"policy": "drr", "queues": [{}]}, None, r"queues\[0\]\.weight: drr shares the link by weight"),
        ({"policy": "sp", "queues": [{"weight": 1}]}, None, r"queues\[0\]\.weight: sp does not use weights"),
        ({"policy": "fifo", "queues": [{"weight": 1}]}, None, r"queues\[0\]\.weight: fifo does not use weights"),
        ({"policy": "wfq", "queues": [{"weight": 0}]}, None, r"queues\[0\]\.weight: .*greater than 0"),
        ({"policy": "wfq", "queues": [{"weight": 1e-7}, {"weight": 1}]}, None, r"queues: the largest weight is 1e\+07"),
        ({"policy": "sp", "queues": [{"buffer": 2, "queue": 3}]}, None, r"queues\[0\]\.queue: give buffer .* or queue"),
        ({"policy": "sp", "queues": [{"queue": 0}]}, None, r"queues\[0\]\.queue: must be between 1"),
        ({"policy": "sp", "queues": [{"buffer": -1}]}, None, r"queues\[0\]\.buffer: "),
        ({"policy": "sp", "queues": [{"size": 3}]}, None, r"queues\[0\]\.size: unknown key"),
        ({"policy": "sp", "queues": [{}] * 65}, None, r"scheduler\.queues: .*at most 64"),
        (None, -1, r"flows\[0\]\.tos: .*greater than or equal to 0"),
        (None, 64, r"flows\[0\]\.tos: must be at most 63"),
        (None, True, r"flows\[0\]\.tos: expected a number, got a boolean"),
        (
            {"policy": "sp", "queues": [{}, {}]},
            2,
            r"^flows\[0\]\.tos: class 2 needs queue 2, but link a→b on its path "
            r"schedules 2 queue\(s\) by sp$",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_field(scheduler, tos, message):
    refused(scenario(scheduler, tos=tos), message)


def test_scheduler_in_overrides_and_defaults_is_checked_there():
    refused(
        scenario({"policy": "drr", "queues": [{}]}, where=("defaults", None)),
        r"topology\.defaults\.scheduler\.queues\[0\]\.weight: drr shares",
    )
    data = scenario(
        extra={"overrides": [{"src": "a", "dst": "b", "scheduler": {"policy": "sp", "queues": [{"weight": 2}]}}]}
    )
    refused(data, r"topology\.overrides\[0\]\.scheduler\.queues\[0\]\.weight: sp does not use weights")


def test_every_flow_without_a_queue_is_named():
    data = scenario({"policy": "sp", "queues": [{}]}, tos=1)
    data["flows"].append(copy.deepcopy(data["flows"][0]))
    with pytest.raises(ScenarioError) as info:
        build_network(parse_scenario(data))
    assert [line.split(":")[0] for line in str(info.value).splitlines()] == ["flows[0].tos", "flows[1].tos"]


def test_a_network_built_without_scheduling_arrays_is_all_fifo():
    net = build_network(parse_scenario(scenario()))
    plain = type(net)(
        **{
            f.name: getattr(net, f.name)
            for f in fields(net)
            if f.name not in ("policy", "queue_ptr", "queue_buffer", "queue_weight")
        }
    )
    assert np.array_equal(plain.queue_buffer, net.buffer) and not plain.scheduled
