"""init_process_group and friends: the init methods, the errors PyTorch raises, and
timeouts or dead peers that raise instead of hanging."""

import os
import time
from datetime import timedelta

import ember
import ember.distributed as dist
import pytest
from _launch import free_port, init, launch

NOT_INIT = "Default process group has not been initialized, please make sure to call"


def test_not_initialized_errors():
    assert dist.is_available() and not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier,
               dist.new_group, dist.destroy_process_group):
        with pytest.raises(ValueError, match=NOT_INIT):
            fn()
    with pytest.raises(ValueError, match=NOT_INIT):
        dist.all_reduce(ember.ones(2))
    with pytest.raises(ValueError, match=NOT_INIT):
        dist.all_gather_object([None], 1)
    assert dist.group.WORLD is None and dist.GroupMember.WORLD is None


def test_bad_arguments():
    url = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ValueError, match="Unknown backend type foo"):
        dist.init_process_group("foo", init_method=url, rank=0, world_size=1)
    with pytest.raises(ValueError, match="Cannot specify both init_method and store"):
        dist.init_process_group("gloo", init_method=url, store=dist.HashStore(), rank=0,
                                world_size=1)
    with pytest.raises(ValueError, match="world_size must be positive"):
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0)
    with pytest.raises(ValueError, match="port number missing"):
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1", rank=0, world_size=1)
    with pytest.raises(ValueError, match="rank parameter missing"):
        dist.init_process_group("gloo", init_method=url, world_size=1)
    with pytest.raises(RuntimeError, match="No rendezvous handler for bogus://"):
        dist.init_process_group("gloo", init_method="bogus://x", rank=0, world_size=1)
    init(0, 1, free_port())
    with pytest.raises(TypeError, match="Expected parameter `tensor`"):
        dist.all_reduce([1, 2])
    with pytest.raises(ValueError, match="Global rank 3 is not part of group"):
        dist.broadcast(ember.ones(1), src=3)


def test_missing_backends_name_their_install():
    url = f"tcp://127.0.0.1:{free_port()}"
    if not dist.is_mpi_available():
        with pytest.raises(RuntimeError, match="pip install mpi4py"):
            dist.init_process_group("mpi", init_method=url, rank=0, world_size=1)
    if not dist.is_nccl_available():
        with pytest.raises(RuntimeError, match="NCCL"):
            dist.init_process_group("nccl", init_method=url, rank=0, world_size=1)
    assert not dist.is_initialized()


def test_env_init_missing_variables(monkeypatch):
    for var in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="environment variable RANK expected"):
        dist.init_process_group("gloo")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected"):
        dist.init_process_group("gloo")


def test_world_of_one_init_twice_and_names():
    init(0, 1, free_port())
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == dist.Backend.GLOO == dist.Backend("GLOO") == "gloo"
    with pytest.raises(ValueError, match="initialize the default process group twice"):
        init(0, 1, free_port())
    t = ember.arange(3.0)
    work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
    assert work.wait() and work.get_future().wait()[0] is t and t.tolist() == [0, 1, 2]
    assert dist.barrier(async_op=True).is_success()
    assert dist.ReduceOp.SUM == dist.ReduceOp.RedOpType.SUM
    with pytest.raises(ValueError, match="Invalid ``op``"):
        dist.all_reduce(t, op="nope")
    dist.destroy_process_group()
    assert not dist.is_initialized()
    init(0, 1, free_port())  # again after destroy
    dist.destroy_process_group()


def worker_env(rank, world, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    dist.init_process_group(timeout=timedelta(seconds=20))  # env://, default backend gloo
    assert dist.get_backend() == "gloo"
    assert (dist.get_rank(), dist.get_world_size()) == (rank, world)
    assert dist.get_node_local_rank() == rank
    t = ember.tensor([1.0])
    dist.all_reduce(t)
    assert t.item() == world
    dist.destroy_process_group()


def test_env_init_method():
    launch(worker_env, 3)


def worker_store(rank, world, port, kind, path):
    if kind == "tcp":
        store = dist.TCPStore("127.0.0.1", port, world, is_master=rank == 0,
                              timeout=timedelta(seconds=20))
        dist.init_process_group("gloo", store=store, rank=rank, world_size=world)
    else:
        dist.init_process_group("gloo", init_method=f"file://{path}", rank=rank,
                                world_size=world, timeout=timedelta(seconds=20))
    t = ember.tensor([float(rank)])
    dist.broadcast(t, src=1)
    assert t.item() == 1.0
    dist.destroy_process_group()


@pytest.mark.parametrize("kind", ["tcp", "file"])
def test_init_with_store_or_file(kind, tmp_path):
    launch(worker_store, 2, kind, str(tmp_path / "rendezvous"))


def test_missing_rank_times_out():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="[Tt]ime"):  # rank 1 never comes
        init(0, 2, free_port(), timeout=1.0)
    assert time.monotonic() - t0 < 10
    assert not dist.is_initialized()


def worker_dead_peer(rank, world, port):
    init(rank, world, port, timeout=30.0)
    if rank == 1:
        return  # exits: its sockets close
    t0 = time.monotonic()
    with pytest.raises(dist.DistBackendError, match="rank 1"):
        dist.all_reduce(ember.ones(3))
    assert time.monotonic() - t0 < 10  # well before the 30 s timeout


def test_dead_peer_fails_fast():
    launch(worker_dead_peer, 2)


def worker_recv_timeout(rank, world, port):
    init(rank, world, port, timeout=0.5)
    if rank == 1:
        time.sleep(1.5)  # alive but silent past rank 0's timeout
        return
    with pytest.raises(dist.DistBackendError, match="timed out after 0.5s"):
        dist.recv(ember.zeros(1), src=1)
    dist.destroy_process_group()


def test_receive_timeout():
    launch(worker_recv_timeout, 2)
