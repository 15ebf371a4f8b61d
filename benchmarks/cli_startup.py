"""How long ``recsys-bench`` takes to start: import time of the CLI and wall time of light commands.

Goal (issue 9, section 4): ``recsys-bench --help``, ``datasets`` and ``models`` under 1 s.
Two measurements, each in fresh interpreters, the median of ``--repeats`` runs:

- ``python -X importtime -c "import recsys.bench.cli"``: the cumulative import time of
  ``recsys.bench.cli`` and the slowest modules it pulls in (what to make lazy next);
- the wall time of ``recsys-bench --help``, ``recsys-bench models`` and ``recsys-bench
  datasets`` (as ``python -m recsys.bench.cli``, so the same interpreter is measured),
  against ``python -c pass`` for the interpreter's own start.

The numbers depend on the machine and on what else runs on it: report the load average
printed with them. Run as ``python benchmarks/cli_startup.py [--repeats N] [--top N]``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "recsys-bench --help": [sys.executable, "-m", "recsys.bench.cli", "--help"],
    "recsys-bench models": [sys.executable, "-m", "recsys.bench.cli", "models"],
    "recsys-bench datasets": [sys.executable, "-m", "recsys.bench.cli", "datasets"],
}


def import_times(module):
    """{module: (self µs, cumulative µs)} from ``python -X importtime -c "import module"``."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                               capture_output=True, text=True, check=True)
    times = {}
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
        times[name] = (int(self_us), int(cumulative_us))
    return times


def wall_time(command):
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=8, help="slowest imported modules to list")
    args = parser.parse_args(argv)

    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
    print(f"{os.cpu_count()} CPUs, 1-min load average {load}; median of {args.repeats} runs")

    runs = [import_times("recsys.bench.cli") for _ in range(args.repeats)]
    total = statistics.median(run["recsys.bench.cli"][1] for run in runs) / 1e6
    print(f"\nimport recsys.bench.cli (cumulative, -X importtime): {total:.3f} s")
    slowest = sorted(runs[-1].items(), key=lambda item: item[1][0], reverse=True)[:args.top]
    print("slowest modules by self time (last run):")
    for name, (self_us, cumulative_us) in slowest:
        print(f"  {name:<40} self {self_us / 1e3:7.1f} ms   cumulative {cumulative_us / 1e3:7.1f} ms")

    print("\n| command | wall time (s) |\n|---|---:|")
    for label, command in COMMANDS.items():
        seconds = statistics.median(wall_time(command) for _ in range(args.repeats))
        print(f"| `{label}` | {seconds:.2f} |")


if __name__ == "__main__":
    main()
