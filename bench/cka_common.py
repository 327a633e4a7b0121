"""The contention helpers both Python benches share (bench/reference_minibatch_cka.py,
bench/pytorch_resnet20_cka.py): the machine is shared, so each timed section waits for idle
cores and measures other processes' CPU use while it runs (Linux /proc/stat).

The scripts run as `python3 bench/<script>.py`, so this folder is on sys.path and they
`from cka_common import ...`.
"""

import os
import time


def busy_seconds():
    """CPU seconds all processes have spent busy since boot (/proc/stat), or None off Linux."""
    try:
        with open('/proc/stat') as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf('SC_CLK_TCK')


def own_cpu_seconds():
    """CPU seconds this process has used (user + system)."""
    times = os.times()
    return times.user + times.system


class BackgroundLoad:
    """CPU time other processes used while a section ran (Linux /proc/stat), in cores."""

    def __init__(self):
        self.start = (busy_seconds(), own_cpu_seconds(), time.perf_counter())

    def cores(self):
        busy0, own0, wall0 = self.start
        busy1 = busy_seconds()
        if busy0 is None or busy1 is None:
            return None
        wall = time.perf_counter() - wall0
        return max(0.0, (busy1 - busy0) - (own_cpu_seconds() - own0)) / wall if wall > 0 else None


def wait_for_quiet(max_seconds, quiet_cores=0.15):
    """Waits until other processes use under `quiet_cores` over a 1 s sample (the machine is
    shared), at most about `max_seconds`; returns (seconds waited, whether it gave up)."""
    start = time.perf_counter()
    while True:
        sample = BackgroundLoad()
        time.sleep(1.0)
        busy = sample.cores()
        waited = time.perf_counter() - start
        if busy is None or busy < quiet_cores:
            return waited, False
        if waited >= max_seconds:
            return waited, True
