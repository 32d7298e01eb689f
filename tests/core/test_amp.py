"""Automatic mixed precision against PyTorch: autocast's per-op dtypes, values and gradients,
the weight-cast cache, nesting, and GradScaler's skip/backoff/growth schedule."""

import warnings

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy


def _pair_models():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 5))
    enet = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.ReLU(), ember.nn.Flatten(),
                               ember.nn.Linear(4 * 6 * 6, 5))
    enet.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    return tnet, enet


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cpu_autocast_matches_torch(dtype):
    tnet, enet = _pair_models()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    y = np.array([1, 3])
    got = {}
    for m, net in ((torch, tnet), (ember, enet)):
        with m.autocast("cpu", dtype=getattr(m, dtype)):
            out = net(m.tensor(x))
            loss = m.nn.functional.cross_entropy(out, m.tensor(y))
            a, b = m.tensor(x[0, 0]), m.tensor(x[0, 1])
            dtypes = [out.dtype, loss.dtype, m.softmax(out, 1).dtype, (a @ b).dtype,
                      m.mm(a, b).dtype, (a.double() @ b.double()).dtype, (a + b).dtype,
                      m.nn.functional.mse_loss(out, out.detach()).dtype]
        loss.backward()
        got[m.__name__] = (dtypes, out, loss, net[0].weight.grad, net[3].weight.grad)
    (td, tout, tloss, tg0, tg3), (ed, eout, eloss, eg0, eg3) = got["torch"], got["ember"]
    assert [str(d).split(".")[1] for d in td] == [d.name for d in ed]
    np.testing.assert_array_equal(to_numpy(eout), to_numpy(tout))
    np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=1e-5)
    assert eg0.dtype == ember.float32 and eg3.dtype == ember.float32  # grads of fp32 weights
    np.testing.assert_allclose(to_numpy(eg0), to_numpy(tg0), rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(to_numpy(eg3), to_numpy(tg3), rtol=2e-2, atol=2e-3)


def test_autocast_state_nesting_and_disable():
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu")
        assert ember.get_autocast_dtype("cpu") == ember.bfloat16
        x = ember.randn(3, 4)
        assert (x @ x.T).dtype == ember.bfloat16
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert (x @ x.T).dtype == ember.float32
        assert (x @ x.T).dtype == ember.bfloat16
    assert not ember.is_autocast_enabled("cpu")
    assert (x @ x.T).dtype == ember.float32


def test_autocast_decorator_and_amp_namespaces():
    lin = ember.nn.Linear(4, 2)

    @ember.amp.autocast("cpu")
    def f(x):
        return lin(x)

    assert f(ember.randn(3, 4)).dtype == ember.bfloat16
    with pytest.warns(FutureWarning):
        ctx = ember.cpu.amp.autocast()
    with ctx:
        assert lin(ember.randn(3, 4)).dtype == ember.bfloat16
    assert lin(ember.randn(3, 4)).dtype == ember.float32


def test_autocast_cuda_without_gpu_warns_and_disables():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present: the CUDA region is real")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        ctx = ember.autocast("cuda")
    with ctx:
        assert not ember.is_autocast_enabled("cuda")
        assert (ember.randn(2, 2) @ ember.randn(2, 2)).dtype == ember.float32


def test_autocast_bad_arguments():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ember.autocast("tpu")
    with pytest.warns(UserWarning, match="not supported"):
        ctx = ember.autocast("cpu", dtype=ember.float64)
    with ctx:
        assert not ember.is_autocast_enabled("cpu")


def test_weight_cast_cache_reused_within_region_and_cleared_after():
    from ember._autocast_state import state

    lin = ember.nn.Linear(4, 4)
    x = ember.randn(2, 4)
    with ember.autocast("cpu"):
        y1 = lin(x)
        first = {k: v[1] for k, v in state.cache.items()}
        y2 = lin(x)
        assert len(state.cache) == 2  # weight and bias, cast once for the region
        assert all(state.cache[k][1] is v for k, v in first.items())
        assert all(v.dtype == ember.bfloat16 for v in first.values())
        np.testing.assert_array_equal(y1.float().detach().numpy(), y2.float().detach().numpy())
    assert len(state.cache) == 0
    with ember.autocast("cpu", cache_enabled=False):
        lin(x)
        assert len(state.cache) == 0


def test_autocast_gradients_reach_float32_leaves():
    w = ember.randn(4, 3, requires_grad=True)
    x = ember.randn(2, 4)
    with ember.autocast("cpu"):
        y = (x @ w).float().sum()
    y.backward()
    assert w.grad.dtype == ember.float32
    np.testing.assert_allclose(w.grad.numpy(), np.repeat(x.numpy().sum(0)[:, None], 3, 1),
                               rtol=2e-2, atol=2e-2)


def _scaler_pair(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = torch.amp.GradScaler("cpu", **kw)
    return ts, ember.amp.GradScaler("cpu", **kw)


def test_grad_scaler_follows_torch_schedule():
    ts, es = _scaler_pair(init_scale=8.0, growth_interval=2)
    torch.manual_seed(0)
    tw = torch.nn.Parameter(torch.randn(3))
    ew = ember.nn.Parameter(ember.tensor(tw.detach().numpy()))
    topt = torch.optim.SGD([tw], lr=0.1)
    eopt = ember.optim.SGD([ew], lr=0.1)
    for step in range(7):
        for w, opt, sc in ((tw, topt, ts), (ew, eopt, es)):
            opt.zero_grad()
            loss = (w * w).sum()
            if step == 3:
                loss = loss * float("inf")  # an overflowing step is skipped
            sc.scale(loss).backward()
            sc.step(opt)
            sc.update()
        assert es.get_scale() == ts.get_scale(), step
        np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=1e-6)
    assert es.state_dict() == {k: (v if not isinstance(v, torch.Tensor) else v.item())
                               for k, v in ts.state_dict().items()}


def test_grad_scaler_unscale_then_clip_and_errors():
    _, es = _scaler_pair(init_scale=4.0)
    w = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([w], lr=1.0)
    es.scale((w * 3).sum()).backward()
    es.unscale_(opt)
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="already been called"):
        es.unscale_(opt)
    es.step(opt)
    with pytest.raises(RuntimeError, match="already been called since the last update"):
        es.step(opt)
    es.update()
    np.testing.assert_allclose(w.detach().numpy(), [-2.0, -2.0])
    with pytest.raises(RuntimeError, match="Closure"):
        es.step(opt, closure=lambda: 0)


def test_disabled_scaler_is_a_pass_through():
    sc = ember.amp.GradScaler("cpu", enabled=False)
    loss = ember.tensor(2.0, requires_grad=True)
    assert sc.scale(loss) is loss and sc.get_scale() == 1.0 and sc.state_dict() == {}
    if not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not ember.cuda.amp.GradScaler().is_enabled()


def test_cpu_autocast_dtypes_of_the_other_products_match_torch():
    x = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    got = {}
    for m in (torch, ember):
        a, b = m.tensor(x), m.tensor(x[0])
        with m.autocast("cpu", dtype=m.bfloat16):
            res = [m.dot(b, b), m.mv(a, b), m.addmv(b, a, b), m.einsum("ij,jk->ik", a, a),
                   m.tensordot(a, a, 1), m.inner(a, a), m.linalg.vecdot(a, a),
                   m.prod(a.bfloat16(), 1), m.matmul(b, b), m.bmm(a[None], a[None])]
        got[m.__name__] = [str(r.dtype).split(".")[-1] for r in res]
    assert got["ember"] == got["torch"]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "linear-1d", "nearest"])
def test_cpu_autocast_interpolate_keeps_the_input_dtype_like_torch(mode):
    """interpolate is on neither autocast list: float32 input stays float32 and bfloat16
    stays bfloat16 (ember builds it from products, which must not be lowered inside)."""
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 6)).astype(np.float32)
    got = {}
    for m in (torch, ember):
        a = m.tensor(x[:, :, 0] if mode == "linear-1d" else x)
        kw = {"mode": "linear" if mode == "linear-1d" else mode}
        with m.autocast("cpu", dtype=m.bfloat16):
            r32 = m.nn.functional.interpolate(a, scale_factor=2, **kw)
            r16 = m.nn.functional.interpolate(a.bfloat16(), scale_factor=2, **kw)
        got[m.__name__] = (r32, r16)
    for e, t in zip(got["ember"], got["torch"]):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(got["ember"][0].numpy(), got["torch"][0].numpy(), rtol=1e-5,
                               atol=1e-5)


def test_warnings_of_wrapped_ops_point_at_the_callers_line():
    import inspect

    line = inspect.currentframe().f_lineno
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ember.nn.functional.mse_loss(ember.zeros(3), ember.zeros(3, 1))
        ember.nn.functional.kl_div(ember.zeros(3) - 1, ember.ones(3) * 0.5)
        ember.nn.functional.softmax(ember.zeros(2, 3))
    ours = [x for x in w if "size" in str(x.message) or "batchmean" in str(x.message)
            or "Implicit dimension" in str(x.message)]
    assert len(ours) == 3
    assert all(x.filename == __file__ and line < x.lineno <= line + 6 for x in ours)


def test_autocast_float16_on_the_test_device(device):
    """autocast(float16) on the device under test (on CUDA the mixed precision a GPU run
    uses): products and convolutions in float16, the loss in float32, float32 gradients
    close to a float32 run's, and GradScaler's schedule on the device's tensors."""
    dev = ember.device(device).type
    _, enet = _pair_models()
    enet = enet.to(device)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), device=device)
    y = ember.tensor([1, 3], device=device)
    grads = []
    for enabled in (False, True):
        enet.zero_grad()
        with ember.autocast(dev, dtype=ember.float16, enabled=enabled):
            out = enet(x)
            loss = ember.nn.functional.cross_entropy(out, y)
        assert out.dtype == (ember.float16 if enabled else ember.float32)
        assert loss.dtype == ember.float32 and out.device.type == dev
        loss.backward()
        grads.append([p.grad for p in enet.parameters()])
    for g32, g16 in zip(*grads):
        assert g16.dtype == ember.float32 and g16.device.type == dev
        np.testing.assert_allclose(to_numpy(g16), to_numpy(g32), rtol=2e-2, atol=2e-3)

    ts = torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    es = ember.amp.GradScaler(dev, init_scale=8.0, growth_interval=2)
    tw = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    ew = ember.nn.Parameter(ember.tensor([1.0, -2.0, 0.5], device=device))
    topt, eopt = torch.optim.SGD([tw], lr=0.1), ember.optim.SGD([ew], lr=0.1)
    for step in range(5):
        for w, opt, sc in ((tw, topt, ts), (ew, eopt, es)):
            opt.zero_grad()
            loss = (w * w).sum() * (float("inf") if step == 2 else 1.0)
            sc.scale(loss).backward()
            sc.step(opt)
            sc.update()
        assert es.get_scale() == ts.get_scale(), step
        np.testing.assert_allclose(to_numpy(ew), tw.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cpu_autocast_scaled_dot_product_attention_matches_torch(dtype):
    # the op widens half inputs to float32 inside; autocast must not lower them again
    # (it recursed without end before autocast was excluded inside autocast ops)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 5, 8)).astype(np.float32) for _ in range(3))
    mask = rng.standard_normal((5, 5)).astype(np.float32)
    got = {}
    for m in (torch, ember):
        with m.autocast("cpu", dtype=getattr(m, dtype)):
            out = m.nn.functional.scaled_dot_product_attention(
                m.tensor(q), m.tensor(k), m.tensor(v), attn_mask=m.tensor(mask))
            causal = m.nn.functional.scaled_dot_product_attention(
                m.tensor(q), m.tensor(k), m.tensor(v), is_causal=True)
        got[m.__name__] = (out, causal)
    for t, e in zip(got["torch"], got["ember"]):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] == dtype
        np.testing.assert_allclose(to_numpy(e.float()), t.float().numpy(), rtol=2e-2,
                                   atol=2e-2)
