"""ember's benchmark: fixed workloads run in ember and in PyTorch, each in its own process.

    python -m tools.bench [--quick] [--only NAME[,NAME]] [--threads N] [--rounds N]
                          [--json FILE] [--frameworks ember,torch]

Workloads (float32): mlp_train, mlp_infer, cnn_train, resnet20_train, resnet18_infer,
resnet18_train, resnet50_infer, resnet50_train, bert_infer, gpt2_forward, gpt2_generate,
lstm_train, op_overhead (see ``workloads.py``). The full suite runs 2 rounds per framework with
the workload's own step counts and a 6 s timing budget per child (about 10 minutes for ember and
torch on 2 cores). ``--quick`` (about 2 minutes) runs 1 round, a quarter of the timed steps (at
least 2), at most 2 warm-up steps and a 3 s budget, and leaves out resnet18_train,
resnet50_train and gpt2_forward, the slowest steps whose operations other workloads also cover
(``--only`` still runs them).

Each row shows the median step time per framework, ember's time as a multiple of torch's,
throughput, achieved GFLOP/s against a numpy matmul ceiling measured in the same run, peak
memory, the load average, and the result check: inference outputs and first training losses
are compared between frameworks on shared weights (MISMATCH when they differ), and every
training run must show a finite, falling loss. A framework that lacks something a workload
needs gets "unsupported (ExceptionType: message)" in that row instead of numbers.

Modules: ``runner`` (orchestration), ``worker`` (child process), ``workloads``, ``models``,
``weights`` (shared weights), ``checks`` (fingerprints), ``ceilings``, ``report``.
"""
