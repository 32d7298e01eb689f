"""``ember._dynamo.exc``: dynamo's exception types, declared so ``except`` clauses that name
them work (ember never raises them: it has no compiler)."""

__all__ = ["TorchDynamoException", "Unsupported", "BackendCompilerFailed",
           "InternalTorchDynamoError"]


class TorchDynamoException(RuntimeError):
    """Base of dynamo's errors."""


class Unsupported(TorchDynamoException):
    """Code that dynamo cannot capture."""


class BackendCompilerFailed(TorchDynamoException):
    """A compiler backend raised."""


class InternalTorchDynamoError(TorchDynamoException):
    """An internal dynamo error."""
