"""``ember._dynamo.exc``: dynamo's exception types, declared so ``except`` clauses that name
them work (ember has no compiler: it raises only ``InvalidBackend``, for an unknown
backend name)."""

__all__ = ["TorchDynamoException", "Unsupported", "BackendCompilerFailed",
           "InternalTorchDynamoError", "InvalidBackend"]


class TorchDynamoException(RuntimeError):
    """Base of dynamo's errors."""


class Unsupported(TorchDynamoException):
    """Code that dynamo cannot capture."""


class BackendCompilerFailed(TorchDynamoException):
    """A compiler backend raised."""


class InternalTorchDynamoError(TorchDynamoException):
    """An internal dynamo error."""


class InvalidBackend(TorchDynamoException):
    """``compile(backend=name)`` with a name no backend is registered under."""

    def __init__(self, name) -> None:
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` "
                         "for available backends.")
