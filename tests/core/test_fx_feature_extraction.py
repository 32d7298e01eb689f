"""ember.vision.models.feature_extraction on top of ember.fx: torchvision's node names
(module paths, function nodes such as ``layer1.0.add`` and ``flatten``, ``_k`` for repeated
calls) and extractors that return those nodes' values."""

import copy
import warnings

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember.vision.models import resnet18
from ember.vision.models.feature_extraction import (
    create_feature_extractor,
    get_graph_node_names,
)


def _np(t):
    return t.detach().numpy()


@pytest.fixture(scope="module")
def resnet():
    ember.manual_seed(0)
    return resnet18().eval()


def test_resnet18_node_names_are_torchvision_names(resnet):
    train, eval_ = get_graph_node_names(resnet)
    assert train == eval_
    assert train[:12] == ["x", "conv1", "bn1", "relu", "maxpool", "layer1.0.conv1",
                          "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.bn2",
                          "layer1.0.add", "layer1.0.relu_1"]
    assert "layer2.0.downsample.0" in train and "layer4.1.relu_1" in train
    assert train[-3:] == ["avgpool", "flatten", "fc"]
    assert len(train) == len(set(train))


def test_extractor_returns_module_and_function_nodes(resnet):
    ext = create_feature_extractor(resnet, {"layer1": "a", "layer2.0.add": "b",
                                            "flatten": "c", "x": "inp"})
    x = ember.randn(1, 3, 32, 32)
    with ember.no_grad():
        out = ext(x)
        stem = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(x))))
        l1 = resnet.layer1(stem)
        block = resnet.layer2[0]
        h = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(l1)))))
        add = h + block.downsample(l1)
        flat = ember.flatten(resnet.avgpool(resnet.layer4(resnet.layer3(resnet.layer2(l1)))), 1)
    assert list(out) == ["a", "b", "c", "inp"]
    np.testing.assert_allclose(_np(out["a"]), _np(l1), rtol=1e-5, atol=1e-5)
    # the block's ReLU(inplace=True) then overwrites the sum, as it does under torchvision
    np.testing.assert_allclose(_np(out["b"]), _np(add.relu()), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(out["c"]), _np(flat), rtol=1e-5, atol=1e-5)
    assert out["inp"] is x


def test_extractor_graph_stops_after_last_requested_node(resnet):
    ext = create_feature_extractor(resnet, ["layer1.1.relu_1"])
    targets = [n.target for n in ext.graph.nodes if n.op == "call_module"]
    assert "layer2.0.conv1" not in targets and "fc" not in targets
    assert "layer1.1.relu" in targets
    assert set(ext.state_dict()) <= set(resnet.state_dict())
    assert "fc.weight" not in ext.state_dict()
    assert "layer1.0.conv1.weight" in ext.state_dict()


def test_unknown_node_raises_with_hint(resnet):
    with pytest.raises(ValueError, match="node: 'layer9' is not present in model"):
        create_feature_extractor(resnet, ["layer9"])


class _TrainEval(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.act(self.lin(x))
        if self.training:
            x = x * 2
        return x + 1


def test_train_and_eval_graphs_follow_the_mode():
    model = _TrainEval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train, eval_ = get_graph_node_names(model)
    assert train == ["x", "lin", "act", "mul", "add"] and eval_ == ["x", "lin", "act", "add"]
    assert any("train and eval" in str(w.message) for w in caught)
    ext = create_feature_extractor(model, train_return_nodes=["mul", "add"],
                                   eval_return_nodes=["add"])
    x = ember.randn(3, 4)
    ext.train()
    out = ext(x)
    base = model.act(model.lin(x))
    np.testing.assert_allclose(_np(out["mul"]), _np(base * 2), rtol=1e-6)
    np.testing.assert_allclose(_np(out["add"]), _np(base * 2 + 1), rtol=1e-6)
    ext.eval()
    assert list(ext(x)) == ["add"]
    np.testing.assert_allclose(_np(ext(x)["add"]), _np(base + 1), rtol=1e-6)
    assert model.training  # tracing restored the model's mode


class _Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x).relu()


class _Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = _Inner()

    def forward(self, x):
        return self.inner(x) - 1


def test_leaf_modules_and_nested_function_names():
    train, _ = get_graph_node_names(_Outer())
    assert train == ["x", "inner.lin", "inner.relu", "sub"]
    train, _ = get_graph_node_names(_Outer(), tracer_kwargs={"leaf_modules": [_Inner]})
    assert train == ["x", "inner", "sub"]


def test_extractor_state_dict_loads_and_deepcopies(resnet):
    ext = create_feature_extractor(resnet, {"layer1": "a"})
    twin = copy.deepcopy(ext)
    assert list(twin.state_dict()) == list(ext.state_dict())
    assert twin.conv1.weight is not ext.conv1.weight
    ext.load_state_dict({k: v for k, v in resnet.state_dict().items() if k in ext.state_dict()})
    x = ember.randn(1, 3, 16, 16)
    with ember.no_grad():
        np.testing.assert_allclose(_np(twin(x)["a"]), _np(ext(x)["a"]), rtol=1e-6)


def test_vit_traces_with_torchvisions_shape_asserts():
    # torchvision checks ViT input sizes with torch._assert, which fx records as nodes
    from ember.vision import models
    from ember.vision.models.feature_extraction import (
        create_feature_extractor,
        get_graph_node_names,
    )

    m = models.VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2,
                                 hidden_dim=8, mlp_dim=16).eval()
    train, _ = get_graph_node_names(m)
    assert train[:13] == ["x", "getattr", "getitem", "getitem_1", "getitem_2", "getitem_3",
                          "eq", "_assert", "eq_1", "_assert_1", "floordiv", "floordiv_1",
                          "conv_proj"]
    assert "encoder.layers.encoder_layer_1._assert" in train
    x = ember.randn(2, 3, 32, 32)
    fe = create_feature_extractor(m, ["encoder.layers.encoder_layer_1.add_1", "heads.head"])
    with ember.no_grad():
        out = fe(x)
        assert out["heads.head"].allclose(m(x))
    assert tuple(out["encoder.layers.encoder_layer_1.add_1"].shape) == (2, 5, 8)
    with pytest.raises(AssertionError, match="Wrong image height! Expected 32 but got 16!"):
        m(ember.randn(1, 3, 16, 32))


def test_vision_ops_modules_are_leaves_and_swin_traces():
    # node names read off torchvision 0.29.1's get_graph_node_names (mobilenet_v3_small,
    # swin_t): its ops' modules (Conv2dNormActivation, SqueezeExcitation, MLP, Permute,
    # StochasticDepth) are leaves, and Swin's attention helpers are fx-wrapped functions
    from ember.vision import models
    from ember.vision.models.feature_extraction import get_graph_node_names

    train, _ = get_graph_node_names(models.mobilenet_v3_small())
    assert train[:8] == ["x", "features.0", "features.1.block.0", "features.1.block.1",
                         "features.1.block.2", "features.2.block.0", "features.2.block.1",
                         "features.2.block.2"]
    train, _ = get_graph_node_names(models.swin_t())
    block = [n for n in train if n.startswith("features.1.0")]
    for name in ["features.1.0.norm1", "features.1.0.attn._get_relative_position_bias",
                 "features.1.0.attn.shifted_window_attention",
                 "features.1.0.stochastic_depth", "features.1.0.add", "features.1.0.norm2",
                 "features.1.0.mlp", "features.1.0.stochastic_depth_1", "features.1.0.add_1"]:
        assert name in block
    assert block.index("features.1.0.attn._get_relative_position_bias") < \
        block.index("features.1.0.attn.shifted_window_attention")
