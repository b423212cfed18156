"""Managing a network with a twin: search configurations through the twin's predictions, judge them by simulation.

- :mod:`nettwin.manage.sla`: per-flow bounds on delay, jitter, drop rate and throughput, and who misses them.
- :mod:`nettwin.manage.verify`: re-simulating a proposed configuration and GLANCE's figures (ε, ε_bm, R², QoS-failure
  ratios) beside the twin's prediction.
"""

from nettwin.manage.sla import SLA, load_sla, parse_sla, violations
from nettwin.manage.verify import Verification, verify

__all__ = ["SLA", "load_sla", "parse_sla", "violations", "Verification", "verify"]
