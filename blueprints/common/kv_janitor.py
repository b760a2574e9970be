"""The KV-cache janitor: keeps each file tier of vLLM's offloading connector within its size.

This file is a program, not a kit module: the pod runs its source with `python3 -c` in the server's own image, so it
uses the standard library only and imports nothing from the kit. blueprints/common/kv_offload.py ships it.

Why it evicts by mtime, and what it approximates (vLLM 0.30.0, vllm/v1/kv_offload/tiering/fs/io.py and manager.py):
- vLLM writes a block once (a temporary file renamed into place) and never again: a store of a block whose file exists
  returns at once. A hit only opens and reads the file. Nothing vLLM does marks a block as used.
- A read moves atime, but relatime (the default mount option, and what FSx for Lustre is mounted with) updates it only
  when atime <= mtime, or once a day; Lustre records a read's atime only at close and only if it moves atime by
  more than 60 s (atime_diff, lustre mdd_object.c). Alone, atime gives "first read after the write": close to FIFO.
- So the janitor keeps the signal itself. Each round, a block whose atime is newer than its mtime was read since the
  janitor last looked; the janitor copies that atime into its mtime. That makes atime <= mtime again, so relatime
  records the next read too. mtime is then the block's last use (write or read), to within one round (and, on
  Lustre, atime_diff), and the janitor deletes the blocks with the oldest mtime first: LRU at a minute's grain.
  Where atime never moves (a noatime mount), mtime stays the write time and eviction is FIFO by write.
- A block deleted between vLLM's lookup and its read is a failed load that vLLM counts as a miss and recomputes
  (tiering/fs/manager.py get_finished_jobs), so deleting at any time is safe.

One walker per directory: a shared directory (FSx) is walked by every replica's janitor, so each takes an exclusive
flock on a lock file in the tier before it walks. The FSx volume is mounted with `flock`, which Lustre makes
coherent across clients (mount.lustre(8)); the lock is released when its holder exits, and by Lustre's eviction of
a client that died. The others keep trying each round, so one takes over when the holder goes.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import sys
import time

LOCK_NAME = ".kv-janitor.lock"
BLOCK_SUFFIX = ".bin"
# vLLM writes `<block>.bin_<random>.tmp` and renames it into place; one left by a crash is never renamed.
TEMPORARY_SUFFIX = ".tmp"
STALE_TEMPORARY_SECONDS = 3600
HEARTBEAT_SECONDS = 10
NS = 1_000_000_000
# Blocks are ordered by the minute of their last use: the janitor's own grain, and a bounded table (one entry per
# minute of history, not per block) in a sidecar with 128 MiB.
GRAIN_NS = 60 * NS


class Heartbeat:
    """Touched at the start of each round and every HEARTBEAT_SECONDS of a long walk, so the probes tell a slow
    round on a large tier from a stuck one."""

    def __init__(self, path: str | None):
        self.path = path
        self.last = 0.0

    def beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.path and (force or now - self.last >= HEARTBEAT_SECONDS):
            with open(self.path, "a"):
                os.utime(self.path)
            self.last = now


def files(root: str, heartbeat: Heartbeat):
    """(path, name, stat) of every regular file under root; files that vanish mid-walk are skipped."""
    pending = [root]
    while pending:
        heartbeat.beat()
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False) and entry.name != LOCK_NAME:
                    yield entry.path, entry.name, entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue


def last_use(path: str, stat: os.stat_result) -> int:
    """The block's last use in ns: a read since the last round (atime past mtime) is copied into mtime."""
    if stat.st_atime_ns <= stat.st_mtime_ns:
        return stat.st_mtime_ns
    try:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_atime_ns))
    except OSError:
        pass  # deleted meanwhile, or not ours: its atime still counts this round
    return stat.st_atime_ns


def measure(root: str, now_ns: int, heartbeat: Heartbeat) -> tuple[int, dict[int, int], int]:
    """Walk one: (bytes the tier holds, block bytes per minute of last use, stale temporary files removed)."""
    used, by_minute, removed = 0, {}, 0
    for path, name, stat in files(root, heartbeat):
        size = stat.st_blocks * 512
        if name.endswith(TEMPORARY_SUFFIX) and now_ns - stat.st_mtime_ns > STALE_TEMPORARY_SECONDS * NS:
            removed += remove(path)
            continue
        used += size
        if name.endswith(BLOCK_SUFFIX):
            minute = last_use(path, stat) // GRAIN_NS
            by_minute[minute] = by_minute.get(minute, 0) + size
    return used, by_minute, removed


def cutoff(by_minute: dict[int, int], over: int) -> tuple[int, int]:
    """The minute of last use up to which blocks go, and how many bytes of that minute's blocks go."""
    total = 0
    for minute in sorted(by_minute):
        if total + by_minute[minute] >= over:
            return minute, over - total
        total += by_minute[minute]
    last = max(by_minute, default=0)
    return last, by_minute.get(last, 0)


def evict(root: str, minute: int, budget: int, heartbeat: Heartbeat) -> tuple[int, int]:
    """Walk two: delete blocks last used before `minute`, and of that minute's blocks `budget` bytes' worth.
    Returns (blocks deleted, bytes freed)."""
    deleted, freed, spent = 0, 0, 0
    for path, name, stat in files(root, heartbeat):
        if not name.endswith(BLOCK_SUFFIX):
            continue
        used_at = last_use(path, stat) // GRAIN_NS
        size = stat.st_blocks * 512
        if used_at < minute or (used_at == minute and spent < budget):
            if used_at == minute:
                spent += size
            if remove(path):
                deleted, freed = deleted + 1, freed + size
    return deleted, freed


def remove(path: str) -> int:
    try:
        os.remove(path)
        return 1
    except FileNotFoundError:
        return 0


def hold(root: str) -> int | None:
    """An open descriptor holding the tier's lock, or None while another janitor holds it."""
    descriptor = os.open(os.path.join(root, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return descriptor
    except OSError as error:
        os.close(descriptor)
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        # ENOSYS, EOPNOTSUPP, ENOLCK: a Lustre mount without `flock` (or with `localflock`, which would be worse:
        # it succeeds on every node). Stop loudly rather than walk beside the other replicas.
        raise SystemExit(f"kv-cache-janitor: cannot lock {root}: {error.strerror}; the tier's volume must support flock") from error


def round_once(root: str, limit: int, heartbeat: Heartbeat) -> str:
    used, by_minute, stale = measure(root, time.time_ns(), heartbeat)
    over = used - limit
    if over <= 0:
        return f"{root}: {used / 2**30:.1f} of {limit / 2**30:.0f} GiB" + (f", {stale} stale temporary files removed" if stale else "")
    minute, budget = cutoff(by_minute, over)
    deleted, freed = evict(root, minute, budget, heartbeat)
    until = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime((minute + 1) * GRAIN_NS // NS))
    return (
        f"{root}: {used / 2**30:.1f} of {limit / 2**30:.0f} GiB; "
        f"evicted {deleted} blocks ({freed / 2**30:.2f} GiB) last used before {until}"
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kv-cache-janitor")
    parser.add_argument("--tier", action="append", required=True, metavar="ROOT=BYTES", help="a tier's directory and the most it may hold")
    parser.add_argument("--period", type=float, default=60.0, help="seconds between rounds")
    parser.add_argument("--heartbeat", default=None, help="file touched while rounds run (the probes read it)")
    parser.add_argument("--rounds", type=int, default=0, help="stop after this many rounds (0: run for ever)")
    arguments = parser.parse_args(argv)
    arguments.tiers = []
    for tier in arguments.tier:
        root, _, limit = tier.rpartition("=")
        arguments.tiers.append((root, int(limit)))
    return arguments


def main(argv: list[str]) -> int:
    arguments = parse(argv)
    heartbeat = Heartbeat(arguments.heartbeat)
    locks: dict[str, int] = {}
    done = 0
    while True:
        heartbeat.beat(force=True)
        for root, limit in arguments.tiers:
            if root not in locks:
                descriptor = hold(root)
                if descriptor is None:
                    print(f"kv-cache-janitor: {root}: another janitor holds the lock; waiting", flush=True)
                    continue
                locks[root] = descriptor
                print(f"kv-cache-janitor: {root}: holding the lock", flush=True)
            print(f"kv-cache-janitor: {round_once(root, limit, heartbeat)}", flush=True)
        done += 1
        if arguments.rounds and done >= arguments.rounds:
            return 0
        time.sleep(arguments.period)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
