"""Managing a network with a twin: search configurations through the twin's predictions, judge them by simulation.

- :mod:`nettwin.manage.destinations`: flow destinations chosen by hill climbing with random restarts through a twin
  (GLANCE's Alg. 2) for per-flow targets or SLAs, against random search at an equal number of twin evaluations.
- :mod:`nettwin.manage.routing`: QoS-aware routing, one of k candidate paths per flow chosen by local search through a
  twin for per-flow SLAs, judged by simulation beside shortest paths and the min-MLU TE split.
- :mod:`nettwin.manage.sla`: per-flow bounds on delay, jitter, drop rate and throughput, and who misses them.
- :mod:`nettwin.manage.loads`: traffic (rates, on/off periods) searched by gradient descent through a learned twin
  towards a target KPI profile (GLANCE's eq. 4).
- :mod:`nettwin.manage.upgrades`: link upgrades within a budget chosen greedily through a twin for the lowest mean
  delay or fewest SLA violations, against utilisation-, degree-based and random upgrades.
- :mod:`nettwin.manage.verify`: re-simulating a proposed configuration and GLANCE's figures (ε, ε_bm, R², QoS-failure
  ratios) beside the twin's prediction.
- :mod:`nettwin.manage.whatif`: every single link and node failure, and sampled k-link failures, judged by a twin and
  ranked by criticality; the ranking checked against simulation on request.
"""

from nettwin.manage.destinations import DestinationChoice, choose_destinations
from nettwin.manage.loads import LoadSearch, read_targets, search_loads
from nettwin.manage.routing import RoutingComparison, compare_routings, search_routes
from nettwin.manage.sla import SLA, load_sla, parse_sla, violations
from nettwin.manage.upgrades import UpgradePlan, plan_upgrades
from nettwin.manage.verify import Verification, verify
from nettwin.manage.whatif import WhatIf, failures, whatif

__all__ = [
    "DestinationChoice",
    "choose_destinations",
    "LoadSearch",
    "read_targets",
    "search_loads",
    "RoutingComparison",
    "compare_routings",
    "search_routes",
    "SLA",
    "load_sla",
    "parse_sla",
    "violations",
    "UpgradePlan",
    "plan_upgrades",
    "Verification",
    "verify",
    "WhatIf",
    "failures",
    "whatif",
]
