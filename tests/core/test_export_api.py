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
    assert set(ep.state_dict) == set(model.state_dict())
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


def test_exported_program_attributes_match_torch():
    import torch

    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)).eval()
    emodel = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.BatchNorm1d(2)).eval()
    emodel.load_state_dict({k: ember.tensor(v.numpy()) for k, v in
                            tmodel.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    tep = torch.export.export(tmodel, (torch.tensor(x),))
    eep = ember.export.export(emodel, (ember.tensor(x),))
    # ExportedProgram.state_dict is a dict attribute in PyTorch, not a method
    assert isinstance(eep.state_dict, dict) and isinstance(tep.state_dict, dict)
    assert list(eep.state_dict) == list(tep.state_dict)
    for k, v in tep.state_dict.items():
        np.testing.assert_array_equal(eep.state_dict[k].detach().numpy(), v.detach().numpy())
    assert [n for n, _ in eep.named_parameters()] == [n for n, _ in tep.named_parameters()]
    assert [n for n, _ in eep.named_buffers()] == [n for n, _ in tep.named_buffers()]
    assert len(list(eep.parameters())) == len(list(tep.parameters()))
    assert len(list(eep.buffers())) == len(list(tep.buffers()))
    assert eep.constants == tep.constants == {}
    # Dim hints exist; static ones are accepted, dynamic ones refused (static programs)
    assert repr(ember.export.Dim.AUTO) == repr(torch.export.Dim.AUTO)
    for spec in (None, [None], ({0: ember.export.Dim.STATIC},)):
        ember.export.export(emodel, (ember.tensor(x),), dynamic_shapes=spec)
    with pytest.raises(NotImplementedError, match="dynamic_shapes"):
        ember.export.export(emodel, (ember.tensor(x),),
                            dynamic_shapes=({0: ember.export.Dim.AUTO},))
    with pytest.raises(ValueError, match="nn.Module"):
        ember.export.export(lambda t: t + 1, (ember.tensor(x),))
    with pytest.raises(ValueError, match="nn.Module"):
        torch.export.export(lambda t: t + 1, (torch.tensor(x),))
