"""Behaviours that the official PyTorch example programs (pytorch/examples, run with ``torch``
served by ember) relied on and ember got wrong: each test is against torch 2.13."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy


def _scaled_sum(x, y):
    return x * 2 + y


torch.fx.wrap("_scaled_sum")
ember.fx.wrap("_scaled_sum")


def test_safe_globals_of_ember_classes_load_a_whole_torch_module(tmp_path):
    # word_language_model: torch.save(model) under PyTorch, then generate.py loads it with
    # ``torch.serialization.safe_globals([torch.nn.modules.linear.Linear, ...])``; under ember
    # those names are ember's classes, and the file's torch.nn.* globals must match them
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                torch.nn.Dropout(0.1)).eval()
    torch.save(model, path)
    allowed = [ember.nn.modules.linear.Linear, ember.nn.modules.activation.ReLU,
               ember.nn.modules.dropout.Dropout, ember.nn.modules.container.Sequential]
    with ember.serialization.safe_globals(allowed):
        loaded = ember.load(path)
    assert type(loaded[0]) is ember.nn.Linear and type(loaded[2]) is ember.nn.Dropout
    np.testing.assert_array_equal(to_numpy(loaded[0].weight), to_numpy(model[0].weight))
    assert loaded[2].p == 0.1
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(to_numpy(loaded(ember.tensor(x))),
                               to_numpy(model(torch.tensor(x))), rtol=1e-6, atol=1e-6)

    # a global the user did not allow still refuses, as in torch
    with ember.serialization.safe_globals(allowed[:-1]):
        with pytest.raises(ember.serialization.UnpicklingError, match="Sequential"):
            ember.load(path)
    with pytest.raises(ember.serialization.UnpicklingError, match="Sequential"):
        ember.load(path)


def test_safe_globals_load_a_torch_transformer_saved_whole(tmp_path):
    # the Transformer model of word_language_model: MultiheadAttention is
    # torch.nn.modules.activation.MultiheadAttention in the file, relu a function global
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    model = torch.nn.Sequential(torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False),
                                torch.nn.Linear(8, 3)).eval()
    torch.save(model, path)
    nn = ember.nn
    allowed = [nn.Sequential, nn.functional.relu, nn.MultiheadAttention, nn.ModuleList,
               nn.Dropout, nn.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear,
               nn.LayerNorm, nn.TransformerEncoder, nn.TransformerEncoderLayer]
    with ember.serialization.safe_globals(allowed):
        loaded = ember.load(path)
    x = np.linspace(-1, 1, 5 * 2 * 8, dtype=np.float32).reshape(5, 2, 8)
    with torch.no_grad():
        want = to_numpy(model(torch.tensor(x)))
    with ember.no_grad():
        got = to_numpy(loaded.eval()(ember.tensor(x)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


SPARSE_ADDS = {
    "add": lambda m, d, s: d + s,
    "function": lambda m, d, s: m.add(d, s),
    "alpha": lambda m, d, s: d.add(s, alpha=2.5),
    "sub": lambda m, d, s: d - s,
    "sub_alpha": lambda m, d, s: m.sub(d, s, alpha=0.5),
    "iadd": lambda m, d, s: d.clone().__iadd__(s),
    "add_": lambda m, d, s: d.clone().add_(s, alpha=-1),
}


@pytest.mark.parametrize("name", sorted(SPARSE_ADDS))
def test_dense_plus_sparse_coo_is_dense_in_the_promoted_dtype(name):
    # gcn/gat: ``adj = torch.eye(V) + sparse_coo_tensor(edges, ones, dtype=int64)``, then
    # ``diag(d).to_sparse() @ adj @ diag(d).to_sparse()`` (ember raised TypeError)
    idx = np.array([[0, 1, 2, 2], [1, 0, 0, 0]])  # a repeated coordinate accumulates
    got = []
    for m in (torch, ember):
        d = m.eye(3) * 0.5
        s = m.sparse_coo_tensor(idx, m.ones(4), (3, 3), dtype=m.int64)
        r = SPARSE_ADDS[name](m, d, s)
        assert not r.is_sparse and str(r.dtype).endswith("float32")
        dg = m.diag(m.tensor([1.0, 2.0, 3.0])).to_sparse()
        got.append((to_numpy(r), to_numpy(dg @ r @ dg)))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-6)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-6)


def test_dense_plus_sparse_gradient_and_size_check():
    grads = []
    for m in (torch, ember):
        d = m.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        v = m.tensor([1.0, -2.0], requires_grad=True)
        s = m.sparse_coo_tensor(np.array([[0, 1], [2, 0]]), v, (2, 3))
        ((d + s) * m.arange(6.0).reshape(2, 3)).sum().backward()
        grads.append((to_numpy(d.grad), to_numpy(v.grad)))
        with pytest.raises(RuntimeError, match="same size"):
            m.ones(3, 3) + s
    for a, b in zip(grads[1], grads[0]):
        np.testing.assert_allclose(a, b)


def test_fx_code_of_a_graph_with_wrapped_functions_is_laid_out_as_torchs():
    # fx/primitive_library.py prints ``traced.code``: ember had one more blank line after the
    # ``wrap("...")`` statements
    def program(m):
        def f(x, y):
            return m.relu(_scaled_sum(x, y))
        return f

    codes = [m.fx.symbolic_trace(program(m)).code.replace(m.__name__ + ".", "M.")
             for m in (torch, ember)]
    assert "wrap(" in codes[0]
    assert codes[1] == codes[0]
