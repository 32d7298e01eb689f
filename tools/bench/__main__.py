"""Command line: ``python -m tools.bench --help``."""

import argparse
import os
import sys

from .report import table, write_json
from .runner import Options, run_suite
from .workloads import WORKLOADS


def _names(text):
    return [n.strip() for n in text.split(",") if n.strip()]


def parse(argv):
    """Options from the command line."""
    p = argparse.ArgumentParser(prog="python -m tools.bench",
                                description="Benchmark ember against PyTorch.")
    p.add_argument("--quick", action="store_true",
                   help="1 round, fewer steps, 10 of the 13 workloads (~2 min)")
    p.add_argument("--only", type=_names, metavar="NAME[,NAME]",
                   help="workloads to run: " + ", ".join(WORKLOADS))
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads per framework (default: all CPUs)")
    p.add_argument("--rounds", type=int, help="rounds per framework (default 2, quick 1)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--frameworks", type=_names, default=["ember", "torch"],
                   help="comma-separated framework modules (default ember,torch)")
    p.add_argument("--iters", type=int, help="timed steps per child, overriding the workload")
    p.add_argument("--warmup", type=int, help="warm-up steps per child")
    p.add_argument("--budget", type=float, help="seconds after which a child stops timing")
    p.add_argument("--timeout", type=float, help="seconds before a child is killed")
    p.add_argument("--no-ceilings", action="store_true", help="skip the numpy ceilings")
    p.add_argument("--device", default="cpu",
                   help="device the models and inputs live on, e.g. cuda (default cpu); "
                        "GPU steps are timed up to a device synchronize")
    a = p.parse_args(argv)
    return Options(frameworks=a.frameworks, only=a.only, threads=a.threads, rounds=a.rounds,
                   quick=a.quick, iters=a.iters, warmup=a.warmup, budget_s=a.budget,
                   timeout_s=a.timeout, ceilings=not a.no_ceilings, device=a.device), a.json


def main(argv=None):
    opts, json_path = parse(sys.argv[1:] if argv is None else argv)
    results = run_suite(opts)
    print(table(results))
    if json_path:
        write_json(results, json_path)


if __name__ == "__main__":
    main()
