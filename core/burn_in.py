"""Node burn-in: a new GPU node is tested before any workload may land on it.

Karpenter puts the startup taint on each new node of a pool with burn_in; the pool's burn-in DaemonSet runs on it
(holding every GPU), then labels the node passed and lifts the taint, or labels it failed, cordons it and leaves
the taint, so nothing is ever scheduled there. Either label ends the DaemonSet's pod on the node.

Standard library only: the verdict program carries this file into the cluster. The thresholds live in
core/burn_in_thresholds.py.
"""

from __future__ import annotations

TAINT_KEY = "llm-kit/burn-in"
TAINT = {"key": TAINT_KEY, "value": "pending", "effect": "NoSchedule"}
RESULT_LABEL = "llm-kit/burn-in"
PASSED, FAILED = "passed", "failed"
