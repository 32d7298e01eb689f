"""Call forms PyTorch accepts that a program may use: keyword forms of the shape methods'
varargs (``flip(dims=)``, ``permute(dims=)``, ``reshape(shape=)``, ``view(size=)``,
``expand(size=)``, ``repeat(repeats=)``), ``new_zeros(size=)``, ``var``/``std`` with a bool
first argument (``unbiased``), and list indices: empty, and the deprecated list-as-tuple
form (with PyTorch's warning)."""

import warnings

import ember
import numpy as np
import pytest
import torch


def _same(fn):
    a, b = fn(ember), fn(torch)
    np.testing.assert_allclose(np.asarray(a.tolist()), np.asarray(b.tolist()), rtol=1e-6)
    assert tuple(a.shape) == tuple(b.shape)


@pytest.mark.parametrize("call", [
    lambda fw, x: fw.flip(x, dims=(1,)),
    lambda fw, x: x.flip(dims=[0, 1]),
    lambda fw, x: x.permute(dims=(1, 0)),
    lambda fw, x: fw.permute(x, dims=(1, 0)),
    lambda fw, x: fw.reshape(x, shape=(3, 2)),
    lambda fw, x: x.reshape(shape=(-1,)),
    lambda fw, x: x.view(size=(3, 2)),
    lambda fw, x: x[:1].expand(size=(2, 3)),
    lambda fw, x: x.repeat(repeats=(2, 1)),
    lambda fw, x: x.new_zeros(size=(2, 3)),
    lambda fw, x: x.new_ones(size=[4]),
    lambda fw, x: x.new_empty(size=(2, 2)).zero_(),
])
def test_keyword_forms_match_torch(call):
    _same(lambda fw: call(fw, fw.arange(6.0).reshape(2, 3)))


def test_both_forms_at_once_are_refused():
    x = ember.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError, match="multiple values"):
        x.flip(0, dims=(1,))
    with pytest.raises(TypeError, match="multiple values"):
        x.new_zeros(2, size=(2,))
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.new_zeros(2, shape=(2,))


@pytest.mark.parametrize("call", [
    lambda fw, x: x.std(False),
    lambda fw, x: fw.var(x, True),
    lambda fw, x: fw.var_mean(x, False)[0],
    lambda fw, x: fw.var_mean(x, False)[1],
    lambda fw, x: fw.std_mean(x, True)[0],
    lambda fw, x: x.var(1),
    lambda fw, x: fw.var(x, 0, False),
    lambda fw, x: x.std(0, True, True),
])
def test_var_std_overloads_match_torch(call):
    _same(lambda fw: call(fw, fw.tensor([[1.0, 2.0], [3.0, 5.0]])))


@pytest.mark.parametrize("index", [
    lambda fw: [],
    lambda fw: (slice(None), []),
    lambda fw: [fw.tensor([0, 2]), fw.tensor([1, 3])],
    lambda fw: [[0, 1], [2, 3]],
    lambda fw: [slice(None), 1],
    lambda fw: [None, 1],
    lambda fw: [0, 2],
    lambda fw: [fw.tensor(1)],
])
def test_list_indices_match_torch(index):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(lambda fw: fw.arange(12.0).reshape(3, 4)[index(fw)])

        def assign(fw):
            y = fw.zeros(3, 4)
            y[index(fw)] = 5.0
            return y

        _same(assign)


def test_list_as_tuple_index_warns_as_torch():
    for fw in (ember, torch):
        with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional"):
            fw.arange(12).reshape(3, 4)[[[0, 1], [2, 3]]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.arange(12).reshape(3, 4)[[0, 1]]  # a plain list of ints: one index, no warning


@pytest.mark.parametrize("call", [
    lambda fw, x: fw.cat([x, x], axis=1),
    lambda fw, x: fw.concat([x, x], axis=0),
    lambda fw, x: fw.stack([x, x], axis=1),
    lambda fw, x: x.max(axis=1)[0],
    lambda fw, x: fw.min(x, axis=0).indices,
    lambda fw, x: x.std(axis=1),
    lambda fw, x: fw.var(x, axis=0),
    lambda fw, x: x[:1].squeeze(axis=0),
    lambda fw, x: x.unsqueeze(axis=1),
    lambda fw, x: x.cumsum(axis=1),
    lambda fw, x: fw.cumprod(x, axis=0),
    lambda fw, x: x.softmax(axis=1),
    lambda fw, x: fw.log_softmax(x, axis=1),
    lambda fw, x: x.sort(axis=1)[0],
    lambda fw, x: x.argsort(axis=0),
    lambda fw, x: x.topk(2, axis=0)[0],
    lambda fw, x: x.median(axis=1)[0],
    lambda fw, x: x.index_select(axis=1, index=fw.tensor([0, 2])),
    lambda fw, x: x.gather(axis=1, index=fw.tensor([[0], [1], [2]])),
    lambda fw, x: x.chunk(2, axis=1)[0],
    lambda fw, x: x.unbind(axis=1)[0],
])
def test_numpy_axis_spelling_matches_torch(call):
    x = np.random.default_rng(0).standard_normal((3, 4))
    _same(lambda fw: call(fw, fw.tensor(x)))


def test_axis_and_dim_together_are_refused():
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.ones(2, 3).std(dim=0, axis=1)


@pytest.mark.parametrize("call", [
    lambda fw, s: s.index_select(0, fw.tensor([0])),
    lambda fw, s: s.index_select(-1, fw.tensor(0)),
    lambda fw, s: s.gather(0, fw.tensor(0)),
    lambda fw, s: s.gather(0, fw.tensor([0, 0])),
    lambda fw, s: s.movedim(0, 0),
    lambda fw, s: s.movedim(-1, 0),
])
def test_scalar_inputs_as_one_element_vectors_match_torch(call):
    _same(lambda fw: call(fw, fw.tensor(2.5)))
    x = ember.tensor(2.5, requires_grad=True)
    call(ember, x).sum().backward()
    assert x.grad is not None and x.grad.shape == ()


def test_scalar_index_errors_match_torch():
    for fw in (ember, torch):
        with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value"):
            fw.tensor(2.5).index_select(0, fw.tensor([0, 0]))
        with pytest.raises(IndexError):
            fw.tensor(2.5).index_select(1, fw.tensor([0]))
