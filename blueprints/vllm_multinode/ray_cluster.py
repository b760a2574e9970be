"""The shell entry points of a group: the leader runs the Ray head and then vLLM, the workers join its Ray cluster.

$(LWS_LEADER_ADDRESS) and $(LWS_GROUP_SIZE) are filled in by the kubelet from the variables LeaderWorkerSet
injects into every container; no other $(...) appears in the scripts, so no shell command substitution is hidden among them.
"""

from __future__ import annotations

import shlex

RAY_PORT = 6379
GROUP_JOINED = (
    "import ray, sys; ray.init(address='auto', logging_level='ERROR'); sys.exit(sum(n['Alive'] for n in ray.nodes()) < $(LWS_GROUP_SIZE))"
)


def leader_script(serve: list[str]) -> str:
    # vLLM spreads its pipeline stages over the Ray cluster as it finds it at start-up, so every node must have joined.
    return "\n".join(
        [
            "set -euo pipefail",
            f"ray start --head --port={RAY_PORT}",
            f'until python3 -c "{GROUP_JOINED}"; do',
            '  echo "waiting for $(LWS_GROUP_SIZE) Ray nodes to join"; sleep 5',
            "done",
            f"exec {shlex.join(serve)}",
        ]
    )


def worker_script() -> str:
    # Workers start with their leader and may come up before its Ray head: keep knocking. Exiting instead would
    # count as a container restart, and RecreateGroupOnPodRestart would tear the whole group down.
    head = f"$(LWS_LEADER_ADDRESS):{RAY_PORT}"
    return "\n".join(
        [
            "set -euo pipefail",
            f"until ray start --address={head} --block; do",
            f'  echo "waiting for the Ray head at {head}"; sleep 5',
            "done",
        ]
    )
