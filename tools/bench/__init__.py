"""ember's benchmark: fixed workloads run in ember and in PyTorch, each in its own process.

    python -m tools.bench [--quick] [--only NAME[,NAME]] [--threads N] [--rounds N]
                          [--json FILE] [--frameworks ember,torch]

Workloads (float32): mlp_train, mlp_infer, cnn_train, resnet20_train, resnet18_infer,
resnet18_train, resnet50_infer, resnet50_train, bert_infer, gpt2_forward, gpt2_generate,
lstm_train, op_overhead (see ``workloads.py``). The full suite runs 3 rounds; ``--quick`` runs
1 round of every workload with a quarter of the timed steps (at least 3) and a 3 s time budget
per child instead of 10 s.

Each row shows the median step time per framework, ember's time as a multiple of torch's,
throughput, achieved GFLOP/s against a numpy matmul ceiling measured in the same run, peak
memory, the load average, and the result check: inference outputs and first training losses
are compared between frameworks on shared weights (MISMATCH when they differ), and every
training run must show a finite, falling loss. A framework that lacks something a workload
needs gets "unsupported (ExceptionType: message)" in that row instead of numbers.

Modules: ``runner`` (orchestration), ``worker`` (child process), ``workloads``, ``models``,
``weights`` (shared weights), ``checks`` (fingerprints), ``ceilings``, ``report``.
"""
