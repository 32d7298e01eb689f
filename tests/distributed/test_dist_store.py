"""Stores: TCPStore (in one process and across processes), HashStore, PrefixStore and
FileStore share one contract: set/get/add/compare_set/append/wait/check/delete."""

import time
from datetime import timedelta

import ember.distributed as dist
import pytest
from _launch import launch


def exercise(store):
    store.set("a", "1")
    store.set("b", b"\x00\xff")
    assert store.get("a") == b"1" and store.get("b") == b"\x00\xff"
    assert store.add("n", 2) == 2 and store.add("n", 3) == 5 and store.get("n") == b"5"
    assert store.compare_set("a", "1", "x") == b"x"
    assert store.compare_set("a", "wrong", "y") == b"x"
    assert store.compare_set("new", "", "v") == b"v"
    store.append("log", "ab")
    store.append("log", "cd")
    assert store.get("log") == b"abcd"
    store.multi_set(["m1", "m2"], ["p", "q"])
    assert store.multi_get(["m1", "m2"]) == [b"p", b"q"]
    assert store.check(["a", "b"]) and not store.check(["a", "zzz"])
    store.wait(["a", "b"])
    assert store.delete_key("a") and not store.delete_key("a")
    assert store.num_keys() >= 6
    store.set_timeout(timedelta(seconds=0.2))
    assert store.timeout == timedelta(seconds=0.2)
    t0 = time.monotonic()
    with pytest.raises(dist.DistStoreError, match="missing"):
        store.get("missing")
    with pytest.raises(dist.DistStoreError):
        store.wait(["missing"], timedelta(seconds=0.1))
    assert time.monotonic() - t0 < 5


def test_tcp_store_in_one_process():
    master = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    client = dist.TCPStore("127.0.0.1", master.port, is_master=False)
    try:
        exercise(client)
        assert master.get("b") == b"\x00\xff"  # the same table
    finally:
        client.close()
        master.close()


def test_hash_prefix_and_file_stores(tmp_path):
    exercise(dist.HashStore())
    base = dist.HashStore()
    pre = dist.PrefixStore("p", base)
    exercise(pre)
    assert base.get("p/b") == b"\x00\xff"
    fs = dist.FileStore(str(tmp_path / "store"), 1)
    exercise(fs)
    fs.close()
    assert not (tmp_path / "store").exists()  # the last user removes it


def worker_store(rank, world, port):
    store = dist.TCPStore("127.0.0.1", port, world, is_master=rank == 0,
                          timeout=timedelta(seconds=20))
    store.set(f"rank{rank}", str(rank))
    store.wait([f"rank{r}" for r in range(world)])
    assert [store.get(f"rank{r}") for r in range(world)] == [str(r).encode()
                                                             for r in range(world)]
    store.add("count", 1)
    while int(store.get("count")) < world:
        time.sleep(0.01)
    store.add("done", 1)
    if rank == 0:  # the master keeps the server up until everyone is done
        while int(store.get("done")) < world:
            time.sleep(0.01)
    store.close()


def test_tcp_store_across_processes():
    launch(worker_store, 3)
