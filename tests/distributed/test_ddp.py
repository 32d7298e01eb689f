"""DistributedDataParallel: training on equal shards matches single-process training on the
full batch, and every rank ends with bit-identical parameters."""

import ember
import ember.distributed as dist
import numpy as np
import pytest
from _launch import free_port, init, launch
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_model(seed):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


def full_batch(n=12):
    rng = np.random.default_rng(0)
    return (ember.from_numpy(rng.standard_normal((n, 5)).astype(np.float32)),
            ember.from_numpy(rng.standard_normal((n, 3)).astype(np.float32)))


def gather_params(model):
    mine = [p.detach().numpy().copy() for p in model.parameters()]
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    return everyone


def worker_train(rank, world, port, steps):
    init(rank, world, port)
    x, y = full_batch()
    ref = make_model(0)  # rank 0's initial weights, trained on the full batch
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        ref_opt.zero_grad()
        nn.functional.mse_loss(ref(x), y).backward()
        ref_opt.step()

    model = DDP(make_model(rank))  # different initial weights: DDP copies rank 0's
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sampler = DistributedSampler(TensorDataset(x, y), shuffle=False)
    assert sampler.num_replicas == world and sampler.rank == rank
    loader = DataLoader(TensorDataset(x, y), batch_size=len(x) // world, sampler=sampler)
    for _ in range(steps):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
    everyone = gather_params(model.module)
    for theirs in everyone[1:]:
        for a, b in zip(everyone[0], theirs):
            np.testing.assert_array_equal(a, b)  # bit-identical on every rank
    for p, q in zip(model.module.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    keys = list(model.state_dict())
    assert keys == ["module." + k for k in ref.state_dict()]
    dist.destroy_process_group()


@pytest.mark.parametrize("world", [2, 3])
def test_ddp_matches_full_batch_training(world):
    launch(worker_train, world, 3)


def worker_no_sync(rank, world, port):
    init(rank, world, port)
    x, y = full_batch(4 * world)
    shards = [(x[r * 4:(r + 1) * 4], y[r * 4:(r + 1) * 4]) for r in range(world)]
    model = DDP(make_model(0))
    loss = nn.functional.mse_loss
    (xa, ya), (xb, yb) = (s[:2] for s in shards[rank]), (s[2:] for s in shards[rank])
    with model.no_sync():
        loss(model(xa), ya).backward()
    local = make_model(0)
    loss(local(xa), ya).backward()
    for p, q in zip(model.module.parameters(), local.parameters()):  # not averaged
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)
    loss(model(xb), yb).backward()  # averages the accumulated gradients
    ref = make_model(0)
    total = sum(loss(ref(s[0][:2]), s[1][:2]) + loss(ref(s[0][2:]), s[1][2:])
                for s in shards) / world
    total.backward()
    for p, q in zip(model.module.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    dist.destroy_process_group()


def test_no_sync_accumulates_then_averages():
    launch(worker_no_sync, 2)


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 1)
        self.b = nn.Linear(2, 1)
        self.never = nn.Linear(2, 1)

    def forward(self, x, use_a):
        return (self.a if use_a else self.b)(x)


def worker_unused(rank, world, port):
    init(rank, world, port)
    ember.manual_seed(0)
    model = DDP(Heads(), find_unused_parameters=True)
    x = ember.ones(3, 2) * (rank + 1)
    model(x, rank == 0).sum().backward()
    m = model.module
    # head a: used by rank 0 only: its gradient averaged with rank 1's zeros
    np.testing.assert_allclose(m.a.weight.grad.numpy(), np.full((1, 2), 3.0 / world))
    np.testing.assert_allclose(m.b.weight.grad.numpy(), np.full((1, 2), 6.0 / world))
    assert m.never.weight.grad is None and m.never.bias.grad is None
    dist.destroy_process_group()


def test_unused_parameters_average_with_zeros():
    launch(worker_unused, 2)


def worker_buffers(rank, world, port, broadcast_buffers):
    init(rank, world, port)
    ember.manual_seed(0)
    model = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)),
                broadcast_buffers=broadcast_buffers)
    bn = model.module[1]
    model(ember.randn(8, 3) + rank).sum().backward()  # running stats now differ per rank
    before = [None] * world
    dist.all_gather_object(before, bn.running_mean.numpy().copy())
    assert not np.array_equal(before[0], before[1])
    model.eval()
    with ember.no_grad():
        model(ember.randn(2, 3))  # syncs rank 0's buffers first (eval: no update)
    want = before[0] if broadcast_buffers else before[rank]
    np.testing.assert_array_equal(bn.running_mean.numpy(), want)
    dist.destroy_process_group()


@pytest.mark.parametrize("broadcast_buffers", [True, False])
def test_buffers_follow_rank0(broadcast_buffers):
    launch(worker_buffers, 2, broadcast_buffers)


def test_ddp_errors_and_world_of_one():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DDP(nn.Linear(2, 2))
    init(0, 1, free_port())
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires"):
        DDP(frozen)
    with pytest.raises(ValueError, match="device_ids"):
        DDP(nn.Linear(2, 2), device_ids=[0])
    ember.manual_seed(1)
    plain = nn.Linear(2, 2)
    ember.manual_seed(1)
    model = DDP(nn.Linear(2, 2), device_ids=None, output_device=None)
    x = ember.randn(4, 2)
    model(x).pow(2).mean().backward()
    plain(x).pow(2).mean().backward()
    np.testing.assert_array_equal(model.module.weight.grad.numpy(), plain.weight.grad.numpy())
    assert isinstance(model.module, nn.Linear)
    assert set(model.state_dict()) == {"module.weight", "module.bias"}
