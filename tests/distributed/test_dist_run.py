"""python -m ember.distributed.run: starts the workers with torchrun's environment and
stops them all when one fails, passing on its exit code."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import ember, ember.distributed as dist
    dist.init_process_group("gloo")
    t = ember.tensor([float(dist.get_rank())])
    dist.all_reduce(t)
    print(f"rank {dist.get_rank()}/{dist.get_world_size()} local {os.environ['LOCAL_RANK']} "
          f"sum {t.item()}", flush=True)
    if dist.get_rank() == 1:
        sys.exit(3)
    time.sleep(60)  # the launcher must stop this worker once rank 1 has failed
""")


def test_launcher_runs_workers_and_reports_failure(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node",
                          "2", str(script)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 3, out.stderr
    assert "rank 0/2 local 0 sum 1.0" in out.stdout and "rank 1/2 local 1 sum 1.0" in out.stdout
    assert time.monotonic() - t0 < 30
