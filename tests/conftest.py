"""Test-wide settings: hypothesis runs derandomized so CI is reproducible, and state that
torch keeps process-wide is restored after each test."""

import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ember", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("ember")


@pytest.fixture(autouse=True)
def _keep_torch_distribution_validation():
    """torch._dynamo, once initialised in the process (torch.compile, torch.export,
    onnx.export(dynamo=True), CPU flex_attention), turns torch.distributions' argument
    validation off for good; tests that compare against torch's validation errors would then
    depend on which tests ran before them in the same worker."""
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributions", None) if torch is not None else None
    before = dist.Distribution._validate_args if dist is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "distributions"):
        torch.distributions.Distribution.set_default_validate_args(
            __debug__ if before is None else before)
