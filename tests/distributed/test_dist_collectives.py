"""Every collective of the gloo backend, run by 2 and 3 processes, against numpy.

Each rank's input is drawn from a generator seeded by the rank, so every rank can compute
what every other rank holds and check the result locally.
"""

import ember
import ember.distributed as dist
import numpy as np
import pytest
from _launch import init, launch
from ember.distributed import ReduceOp
from ember.distributed.algorithms import Join, Joinable, JoinHook


def data(rank: int, shape=(3, 4), dtype=np.float32):
    rng = np.random.default_rng(100 + rank)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(1, 6, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def check_all_reduce(rank, world):
    everyone = [data(r) for r in range(world)]
    ops = {ReduceOp.SUM: np.add, ReduceOp.PRODUCT: np.multiply, ReduceOp.MIN: np.minimum,
           ReduceOp.MAX: np.maximum}
    for op, fn in ops.items():
        t = ember.from_numpy(data(rank))
        assert dist.all_reduce(t, op=op) is None
        want = everyone[0]
        for x in everyone[1:]:
            want = fn(want, x)
        np.testing.assert_array_equal(t.numpy(), want)
    t = ember.from_numpy(data(rank))
    dist.all_reduce(t, op=ReduceOp.AVG)
    np.testing.assert_allclose(t.numpy(), sum(everyone) / world, rtol=1e-6, atol=1e-6)
    ints = [data(r, (5,), np.int64) for r in range(world)]
    for op, fn in {ReduceOp.BAND: np.bitwise_and, ReduceOp.BOR: np.bitwise_or,
                   ReduceOp.BXOR: np.bitwise_xor, ReduceOp.SUM: np.add}.items():
        t = ember.from_numpy(ints[rank].copy())
        dist.all_reduce(t, op)
        want = ints[0]
        for x in ints[1:]:
            want = fn(want, x)
        np.testing.assert_array_equal(t.numpy(), want)
        assert t.dtype == ember.int64
    # float64, a 0-d tensor, a non-contiguous view, async_op
    t = ember.tensor(float(rank), dtype=ember.float64)
    dist.all_reduce(t)
    assert t.item() == sum(range(world)) and t.dtype == ember.float64
    base = ember.from_numpy(data(rank, (4, 6)))
    view = base[:, ::2]
    work = dist.all_reduce(view, async_op=True)
    assert work.wait() and work.is_completed() and work.result()[0] is view
    np.testing.assert_allclose(base.numpy()[:, ::2], sum(data(r, (4, 6)) for r in
                                                         range(world))[:, ::2], rtol=1e-6)
    np.testing.assert_array_equal(base.numpy()[:, 1::2], data(rank, (4, 6))[:, 1::2])


def check_broadcast_reduce(rank, world):
    for src in range(world):
        t = ember.from_numpy(data(rank))
        dist.broadcast(t, src=src)
        np.testing.assert_array_equal(t.numpy(), data(src))
    t = ember.from_numpy(data(rank))
    dist.broadcast(t, group_src=world - 1)
    np.testing.assert_array_equal(t.numpy(), data(world - 1))
    dst = world - 1
    t = ember.from_numpy(data(rank))
    dist.reduce(t, dst=dst, op=ReduceOp.MAX)
    want = np.max(np.stack([data(r) for r in range(world)]), 0) if rank == dst else data(rank)
    np.testing.assert_array_equal(t.numpy(), want)


def check_gathers(rank, world):
    everyone = [data(r) for r in range(world)]
    out = [ember.zeros(3, 4) for _ in range(world)]
    dist.all_gather(out, ember.from_numpy(data(rank)))
    for o, w in zip(out, everyone):
        np.testing.assert_array_equal(o.numpy(), w)
    big = ember.zeros(3 * world, 4)
    dist.all_gather_into_tensor(big, ember.from_numpy(data(rank)))
    np.testing.assert_array_equal(big.numpy(), np.concatenate(everyone))
    stacked = ember.zeros(world, 3, 4)
    dist.all_gather_into_tensor(stacked, ember.from_numpy(data(rank)))
    np.testing.assert_array_equal(stacked.numpy(), np.stack(everyone))
    glist = [ember.zeros(3, 4) for _ in range(world)] if rank == 0 else None
    dist.gather(ember.from_numpy(data(rank)), glist, dst=0)
    if rank == 0:
        for o, w in zip(glist, everyone):
            np.testing.assert_array_equal(o.numpy(), w)
    t = ember.zeros(3, 4)
    slist = [ember.from_numpy(data(10 + r)) for r in range(world)] if rank == 1 else None
    dist.scatter(t, slist, src=1)
    np.testing.assert_array_equal(t.numpy(), data(10 + rank))


def check_reduce_scatter_all_to_all(rank, world):
    # rank r contributes inputs data(10 * r + j) for destination j
    inputs = [ember.from_numpy(data(10 * rank + j, (2, 3))) for j in range(world)]
    out = ember.zeros(2, 3)
    dist.reduce_scatter(out, inputs)
    want = sum(data(10 * r + rank, (2, 3)) for r in range(world))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)
    out = ember.zeros(2, 3)
    dist.reduce_scatter_tensor(out, ember.cat(inputs), op=ReduceOp.SUM)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)
    outs = [ember.zeros(2, 3) for _ in range(world)]
    dist.all_to_all(outs, inputs)
    for r in range(world):
        np.testing.assert_array_equal(outs[r].numpy(), data(10 * r + rank, (2, 3)))
    single = ember.zeros(2 * world, 3)
    dist.all_to_all_single(single, ember.cat(inputs))
    np.testing.assert_array_equal(single.numpy(),
                                  np.concatenate([data(10 * r + rank, (2, 3))
                                                  for r in range(world)]))


def check_p2p(rank, world):
    nxt, prv = (rank + 1) % world, (rank - 1) % world
    # post the receive first, then send: irecv must not block the sender
    buf = ember.zeros(3, 4)
    req = dist.irecv(buf, src=prv)
    dist.send(ember.from_numpy(data(rank)), dst=nxt)
    req.wait()
    np.testing.assert_array_equal(buf.numpy(), data(prv))
    # tagged messages are matched by tag, not by arrival order
    if rank == 0:
        dist.send(ember.full((2,), 1.0), dst=1, tag=1)
        dist.send(ember.full((2,), 2.0), dst=1, tag=2)
    elif rank == 1:
        a, b = ember.zeros(2), ember.zeros(2)
        assert dist.recv(b, src=0, tag=2) == 0
        assert dist.recv(a, tag=1) == 0  # any source
        assert a.tolist() == [1.0, 1.0] and b.tolist() == [2.0, 2.0]
    out = ember.zeros(3, 4)
    ops = [dist.P2POp(dist.isend, ember.from_numpy(data(rank)), nxt),
           dist.P2POp(dist.irecv, out, prv)]
    for w in dist.batch_isend_irecv(ops):
        w.wait()
    np.testing.assert_array_equal(out.numpy(), data(prv))
    with pytest.raises(ValueError, match="Invalid destination rank"):
        dist.send(ember.zeros(1), dst=rank)


def check_objects(rank, world):
    objs = [None] * world
    dist.all_gather_object(objs, {"rank": rank, "pad": "x" * rank * 50})
    assert objs == [{"rank": r, "pad": "x" * r * 50} for r in range(world)]
    lst = [1, "two", {"three": 3.0}] if rank == 0 else [None, None, None]
    dist.broadcast_object_list(lst, src=0)
    assert lst == [1, "two", {"three": 3.0}]
    got = [None] * world if rank == 0 else None
    dist.gather_object(("r", rank), got, dst=0)
    if rank == 0:
        assert got == [("r", r) for r in range(world)]
    out = [None]
    dist.scatter_object_list(out, [list(range(r + 1)) for r in range(world)] if rank == 0
                             else None, src=0)
    assert out[0] == list(range(rank + 1))
    t = [ember.arange(3) * rank]
    dist.broadcast_object_list(t, src=world - 1)
    assert t[0].tolist() == [0, world - 1, 2 * (world - 1)]


def check_groups(rank, world):
    assert dist.get_rank() == rank and dist.get_world_size() == world
    assert dist.get_backend() == "gloo" and dist.group.WORLD is not None
    members = [0, world - 1]
    g = dist.new_group(members)
    if rank in members:
        assert dist.get_world_size(g) == 2 and dist.get_rank(g) == members.index(rank)
        t = ember.tensor([float(rank)])
        dist.all_reduce(t, group=g)
        assert t.item() == float(sum(members))
        b = ember.tensor([float(rank)])
        dist.broadcast(b, src=world - 1, group=g)
        assert b.item() == float(world - 1)
        assert dist.get_process_group_ranks(g) == members
        assert dist.get_global_rank(g, 1) == world - 1
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(g) == -1
    dist.barrier()
    t = ember.ones(2)
    dist.all_reduce(t)  # the world still works after the subgroup
    assert t.tolist() == [float(world)] * 2


def worker(rank, world, port):
    init(rank, world, port)
    check_all_reduce(rank, world)
    check_broadcast_reduce(rank, world)
    check_gathers(rank, world)
    check_reduce_scatter_all_to_all(rank, world)
    check_p2p(rank, world)
    check_objects(rank, world)
    check_groups(rank, world)
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()


@pytest.mark.parametrize("world", [2, 3])
def test_collectives_against_numpy(world):
    launch(worker, world)


def worker_big(rank, world, port):
    init(rank, world, port)
    t = ember.full((1 << 20,), float(rank + 1))  # 4 MiB: more than the socket buffers
    dist.all_reduce(t)
    assert float(t[0]) == float(t[-1]) == sum(range(1, world + 1))
    out = [ember.zeros(1 << 20) for _ in range(world)]
    dist.all_gather(out, t)
    dist.destroy_process_group()


def test_large_tensors_four_ranks():
    launch(worker_big, 4)


def worker_mismatch(rank, world, port):
    init(rank, world, port)
    t = ember.zeros(3 + rank)
    # rank 0 sees the mismatch; rank 1 then sees rank 0 leave instead of hanging
    match = "all ranks must pass matching tensors" if rank == 0 else "rank 0"
    with pytest.raises(RuntimeError, match=match):
        dist.all_reduce(t)
    dist.destroy_process_group()


def test_mismatched_shapes_raise_on_rank0():
    launch(worker_mismatch, 2)



class _Summer(Joinable):
    """A joinable that all-reduces a one per input (how many ranks still train); its join
    hook shadows that with a zero once the rank has run out of inputs."""

    def __init__(self):
        super().__init__()
        self.sums, self.last_joiner = [], None
        summer = self

        class Hook(JoinHook):
            def main_hook(self):
                dist.all_reduce(ember.zeros(1))

            def post_hook(self, is_last_joiner):
                summer.last_joiner = is_last_joiner

        self._hook = Hook()

    def join_hook(self, **kwargs):
        return self._hook

    @property
    def join_device(self):
        return ember.device("cpu")

    @property
    def join_process_group(self):
        return dist.group.WORLD

    def step(self):
        Join.notify_join_context(self)
        t = ember.ones(1)
        dist.all_reduce(t)
        self.sums.append(int(t.item()))


def worker_join(rank, world, port):
    init(rank, world, port)
    summer = _Summer()
    with Join([summer]):
        for _ in range(rank + 2):  # uneven inputs: rank r has r + 2 batches
            summer.step()
    # while every rank trained, all counted; then only the ranks with inputs left
    assert summer.sums == [world - max(0, i - 1) for i in range(rank + 2)]
    assert summer.last_joiner is (rank == world - 1)
    # enable=False: a plain context; throw_on_early_termination: every rank raises once
    # one runs out
    with Join([summer], enable=False):
        pass
    with pytest.raises(RuntimeError, match="exhausted"):
        with Join([summer], throw_on_early_termination=True):
            for _ in range(rank + 2):
                summer.step()
    with pytest.raises(ValueError, match="at least one joinable"):
        Join([])
    dist.destroy_process_group()


@pytest.mark.parametrize("world", [2, 3])
def test_join_context_shadows_uneven_inputs(world):
    """``ember.distributed.algorithms.Join`` (as torch.distributed.algorithms.Join): ranks
    that run out of inputs keep answering the collectives of those still training."""
    launch(worker_join, world)


def test_joinable_is_abstract_like_torch():
    from torch.distributed.algorithms import Joinable as TorchJoinable

    assert Joinable.__abstractmethods__ == TorchJoinable.__abstractmethods__
    with pytest.raises(TypeError):
        Joinable()
