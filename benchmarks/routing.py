"""Routing simulation: round-robin against the endpoint picker's scorers on a multi-turn chat trace.

    python -m benchmarks.routing [--replicas 4] [--conversations 400] [--seed 7]

A benchmark, not a test: it models, it does not measure. A synthetic trace of multi-turn conversations (each
opening with one of a few shared system prompts, each turn resending the whole history) is replayed against N
simulated vLLM replicas. Each replica keeps a bounded prefix cache of fixed-size token blocks (LRU, as vLLM's
automatic prefix caching evicts) and a queue. Policies:

- round-robin: what a ClusterIP Service does;
- picker: the Inference Extension's scorers as the kit configures them: prefix-cache match (share of the prompt's
  blocks the replica holds), KV-cache utilisation (free share) and queue depth (shorter is better), each in [0, 1],
  summed with the config's weights; the highest score wins.

Time to first token is modelled as queue wait plus prefill of the uncached tokens at a fixed prefill rate, with
each replica serving one prefill at a time. The figures are relative: they compare policies on one trace.
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from blueprints.common.routing_params import EndpointPicker
from core.docstrings import first_paragraph

BLOCK = 16
PREFILL_TOKENS_PER_SECOND = 12_000.0
DECODE_SECONDS = 2.0
CACHE_BLOCKS = 6_000


@dataclass
class Request:
    arrival: float
    blocks: tuple[int, ...]
    """The prompt as block hashes: equal prefixes hash to equal leading blocks."""


@dataclass
class Replica:
    cache: OrderedDict[int, None] = field(default_factory=OrderedDict)
    busy_until: float = 0.0
    in_flight: list[float] = field(default_factory=list)

    def cached_prefix(self, blocks: tuple[int, ...]) -> int:
        hits = 0
        for block in blocks:
            if block not in self.cache:
                break
            hits += 1
        return hits

    def queue(self, now: float) -> int:
        self.in_flight = [end for end in self.in_flight if end > now]
        return len(self.in_flight)

    def utilisation(self) -> float:
        return len(self.cache) / CACHE_BLOCKS

    def serve(self, request: Request) -> tuple[float, int]:
        """(time to first token, blocks found cached); the replica then holds the whole prompt."""
        hits = self.cached_prefix(request.blocks)
        start = max(request.arrival, self.busy_until)
        prefill = (len(request.blocks) - hits) * BLOCK / PREFILL_TOKENS_PER_SECOND
        self.busy_until = start + prefill
        self.in_flight.append(self.busy_until + DECODE_SECONDS)
        for block in request.blocks:
            self.cache[block] = None
            self.cache.move_to_end(block)
        while len(self.cache) > CACHE_BLOCKS:
            self.cache.popitem(last=False)
        return self.busy_until - request.arrival, hits


def trace(conversations: int, seed: int) -> list[Request]:
    """Conversations of 2-8 turns over 5 shared system prompts, arriving over ten minutes; each turn adds a user
    message and an answer, and resends the history."""
    rng = random.Random(seed)
    systems = [tuple(rng.getrandbits(60) for _ in range(rng.randint(40, 120))) for _ in range(5)]
    requests = []
    for _ in range(conversations):
        history = list(rng.choice(systems))
        time = rng.uniform(0, 600)
        for _turn in range(rng.randint(2, 8)):
            history += [rng.getrandbits(60) for _ in range(rng.randint(4, 30))]
            requests.append(Request(time, tuple(history)))
            history += [rng.getrandbits(60) for _ in range(rng.randint(8, 40))]
            time += rng.uniform(5, 40)
    return sorted(requests, key=lambda r: r.arrival)


Policy = Callable[[list[Replica], Request], int]


def round_robin() -> Policy:
    counter = iter(range(10**9))
    return lambda replicas, request: next(counter) % len(replicas)


def picker(weights: EndpointPicker) -> Policy:
    def choose(replicas: list[Replica], request: Request) -> int:
        queues = [replica.queue(request.arrival) for replica in replicas]
        longest = max(queues) or 1

        def score(index: int) -> float:
            replica = replicas[index]
            prefix = replica.cached_prefix(request.blocks) / len(request.blocks)
            return (
                weights.prefix_cache_weight * prefix
                + weights.kv_cache_weight * (1 - replica.utilisation())
                + weights.queue_weight * (1 - queues[index] / longest)
            )

        return max(range(len(replicas)), key=score)

    return choose


def replay(requests: list[Request], replicas: int, policy: Policy) -> dict[str, float]:
    pool = [Replica() for _ in range(replicas)]
    ttfts, hit_blocks, total_blocks = [], 0, 0
    for request in requests:
        ttft, hits = pool[policy(pool, request)].serve(request)
        ttfts.append(ttft)
        hit_blocks += hits
        total_blocks += len(request.blocks)
    ttfts.sort()
    return {
        "hit_rate": hit_blocks / total_blocks,
        "ttft_p50": statistics.median(ttfts),
        "ttft_p90": ttfts[int(0.9 * (len(ttfts) - 1))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.routing", description=first_paragraph(__doc__))
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    requests = trace(args.conversations, args.seed)
    weights = EndpointPicker()
    print(f"{len(requests)} requests, {args.replicas} replicas, cache {CACHE_BLOCKS} blocks of {BLOCK} tokens each")
    print(f"picker weights: prefix {weights.prefix_cache_weight}, kv-cache {weights.kv_cache_weight}, queue {weights.queue_weight}")
    print(f"{'policy':<14}{'prefix hit rate':>16}{'TTFT p50 (s)':>14}{'TTFT p90 (s)':>14}")
    for name, policy in (("round-robin", round_robin()), ("picker", picker(weights))):
        result = replay(requests, args.replicas, policy)
        print(f"{name:<14}{result['hit_rate']:>16.1%}{result['ttft_p50']:>14.3f}{result['ttft_p90']:>14.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
