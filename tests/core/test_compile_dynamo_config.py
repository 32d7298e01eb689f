"""``ember.compile`` and ``ember._dynamo``/``ember._inductor`` settings against PyTorch: the
arguments PyTorch accepts are accepted (the model runs as it is), those it refuses are
refused with the same exception type, and ``config.patch`` sets and restores settings."""

import ember
import pytest
import torch


def _outcome(mod, **kwargs):
    lib = torch if mod == "torch" else ember
    model = lib.nn.Linear(2, 2)
    try:
        lib.compile(model, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared across libraries
        return type(exc).__name__
    return "ok"


@pytest.mark.parametrize("kwargs", [
    {"mode": "reduce-overhead", "fullgraph": True, "dynamic": False},
    {"mode": "max-autotune-no-cudagraphs"},
    {"backend": "eager"},
    {"backend": "aot_eager", "mode": "max-autotune"},
    {"backend": "cudagraphs"},
    {"options": {"triton.cudagraphs": True}},
    {"name": "my_model", "recompile_limit": 4},
    {"mode": "bogus"},
    {"backend": "not_a_backend"},
    {"mode": "max-autotune", "options": {"max_autotune": True}},
])
def test_compile_arguments_accepted_and_refused_as_torch(kwargs):
    assert _outcome("ember", **kwargs) == _outcome("torch", **kwargs)


def test_compile_decorator_forms_and_backends():
    @ember.compile(mode="reduce-overhead", fullgraph=True)
    def f(x):
        return x + 1

    assert f(ember.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="Model can't be None"):
        ember.compile()(None)
    assert ember._dynamo.list_backends() == torch._dynamo.list_backends()
    assert ember.compiler.list_backends() == torch.compiler.list_backends()
    assert set(ember._dynamo.list_backends(None)) >= {"eager", "aot_eager", "inductor"}

    @ember._dynamo.register_backend(name="my_ember_backend")
    def my_backend(gm, example_inputs):
        return gm.forward

    model = ember.nn.Linear(2, 2)
    assert ember.compile(model, backend="my_ember_backend") is model
    assert ember.compile(model, backend=my_backend) is model
    assert isinstance(torch._dynamo.exc.InvalidBackend("x"), RuntimeError)
    assert isinstance(ember._dynamo.exc.InvalidBackend("x"), RuntimeError)


def test_dynamo_config_patch_sets_and_restores():
    cfg = ember._dynamo.config
    before = cfg.cache_size_limit
    with cfg.patch(cache_size_limit=3):
        assert cfg.cache_size_limit == 3
    assert cfg.cache_size_limit == before
    with cfg.patch("suppress_errors", True):
        assert cfg.suppress_errors is True
    assert cfg.suppress_errors is False

    @cfg.patch({"capture_scalar_outputs": True})
    def run():
        return cfg.capture_scalar_outputs

    assert run() is True and cfg.capture_scalar_outputs is False
    snap = cfg.get_config_copy()
    assert snap["cache_size_limit"] == before and "patch" not in snap
    # torch's patch works the same way on the same names
    with torch._dynamo.config.patch(cache_size_limit=3):
        assert torch._dynamo.config.cache_size_limit == 3


def test_inductor_config_is_settable():
    import ember._inductor.config as ic
    import torch._inductor.config as tic

    for name in ("coordinate_descent_tuning", "max_autotune", "freezing", "fx_graph_cache",
                 "epilogue_fusion", "conv_1x1_as_mm"):
        assert getattr(ic, name) == getattr(tic, name), name
    assert ic.triton.cudagraphs == tic.triton.cudagraphs
    ic.triton.unique_kernel_names = True
    with ic.patch(coordinate_descent_tuning=True):
        assert ic.coordinate_descent_tuning is True
    assert ic.coordinate_descent_tuning is False
