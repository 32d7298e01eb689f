"""Run by test_dist_mpi under ``mpiexec -n 3``: the collectives of the mpi backend."""

import ember
import ember.distributed as dist
import numpy as np
from ember.distributed import ReduceOp


def main():
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    assert dist.get_backend() == "mpi"
    t = ember.tensor([float(r + 1)] * 3)
    dist.all_reduce(t)
    assert t.tolist() == [n * (n + 1) / 2] * 3
    t = ember.tensor([float(r + 1)])
    dist.all_reduce(t, ReduceOp.AVG)
    assert abs(t.item() - (n + 1) / 2) < 1e-6
    b = ember.full((2,), float(r))
    dist.broadcast(b, src=n - 1)
    assert b.tolist() == [n - 1.0] * 2
    t = ember.tensor([float(r)])
    dist.reduce(t, dst=0, op=ReduceOp.MAX)
    assert r != 0 or t.item() == n - 1
    out = [ember.zeros(2) for _ in range(n)]
    dist.all_gather(out, ember.full((2,), float(r)))
    assert [o.tolist() for o in out] == [[float(k)] * 2 for k in range(n)]
    g = [ember.zeros(1) for _ in range(n)] if r == 0 else None
    dist.gather(ember.tensor([float(r)]), g, dst=0)
    assert r != 0 or [x.item() for x in g] == list(range(n))
    s = ember.zeros(1)
    dist.scatter(s, [ember.tensor([10.0 * k]) for k in range(n)] if r == 0 else None, src=0)
    assert s.item() == 10.0 * r
    o = ember.zeros(1)
    dist.reduce_scatter(o, [ember.tensor([float(r * k)]) for k in range(n)])
    assert o.item() == sum(k * r for k in range(n))
    outs = [ember.zeros(1) for _ in range(n)]
    dist.all_to_all(outs, [ember.tensor([float(10 * r + k)]) for k in range(n)])
    assert [x.item() for x in outs] == [float(10 * k + r) for k in range(n)]
    if r == 0:
        dist.send(ember.ones(2), dst=1)
    elif r == 1:
        x = ember.zeros(2)
        assert dist.recv(x) == 0 and x.tolist() == [1.0, 1.0]
    objs = [None] * n
    dist.all_gather_object(objs, {"r": r})
    assert objs == [{"r": k} for k in range(n)]
    lst = ["a", 1] if r == 0 else [None, None]
    dist.broadcast_object_list(lst)
    assert lst == ["a", 1]
    grp = dist.new_group([0, n - 1])
    if r in (0, n - 1):
        t = ember.tensor([1.0])
        dist.all_reduce(t, group=grp)
        assert t.item() == 2.0
    model = ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(3, 2))
    model(ember.randn(4, 3) + r).sum().backward()
    ws = [None] * n
    dist.all_gather_object(ws, model.module.weight.grad.numpy())
    assert all(np.array_equal(ws[0], w) for w in ws)
    dist.barrier()
    dist.destroy_process_group()
    print("mpi ok", r, n)


if __name__ == "__main__":
    main()
