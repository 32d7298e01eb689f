"""``ember.export`` (torch.export's entry points): the program replays the model, survives a
save/load round trip, and refuses what it cannot honour."""

import ember
import numpy as np
import pytest


def _model():
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.BatchNorm2d(4),
                               ember.nn.ReLU(), ember.nn.AdaptiveAvgPool2d(1),
                               ember.nn.Flatten(), ember.nn.Linear(4, 2)).eval()


def test_export_module_replays_and_round_trips(tmp_path):
    model = _model()
    x = ember.randn(2, 3, 8, 8)
    ep = ember.export.export(model, (x,))
    y = ember.randn(2, 3, 8, 8)
    with ember.no_grad():
        want = model(y).numpy()
        np.testing.assert_allclose(ep.module()(y).numpy(), want, rtol=1e-6, atol=1e-6)
    assert set(ep.state_dict()) == set(model.state_dict())
    assert "ExportedProgram" in str(ep)
    path = tmp_path / "m.ep"
    ember.export.save(ep, str(path))
    ep2 = ember.export.load(str(path))
    with ember.no_grad():
        np.testing.assert_allclose(ep2.module()(y).numpy(), want, rtol=1e-6, atol=1e-6)


def test_export_refuses_what_it_cannot_honour():
    model = _model()
    x = ember.randn(2, 3, 8, 8)
    ep = ember.export.export(model, (x,))
    with pytest.raises(RuntimeError, match="module\\(\\)"):
        ep(x)
    with pytest.raises(NotImplementedError, match="dynamic_shapes"):
        ember.export.export(model, (x,), dynamic_shapes={"input": {0: ember.export.Dim("b")}})
    with pytest.raises(ValueError, match="tuple"):
        ember.export.export(model, x)
    with pytest.raises(TypeError, match="ExportedProgram"):
        ember.export.save(model, "never.ep")
