"""Resident memory of the current process, for the children of benchmarks/sequential_peers.py.

Shared by recsys' workers and the peer runners (which import nothing from recsys). Linux only: the
peak is the kernel's high-water mark VmHWM, reset through /proc/self/clear_refs just before fit, so
that reading the split and importing libraries do not count as the model's memory.
"""

from pathlib import Path


def _status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


def reset_peak():
    """Start a new peak measurement; return the resident set size now, in bytes."""
    Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak resident set size (Linux >= 4.0)
    return _status_kib("VmRSS") * 1024


def peak_rss():
    """Peak resident set size since the last reset_peak(), in bytes."""
    return _status_kib("VmHWM") * 1024
