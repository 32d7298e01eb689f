"""ember's op families, one per file: elementwise, compare, reduce, shape, index, linalg.
Each differentiable op is one ``Op`` subclass (see ``op.py``)."""


def __getattr__(name: str):
    # ``ember.ops.mylib.op`` reaches ops declared with ember.library.custom_op("mylib::op")
    from ..library import namespace

    ns = namespace(name)
    if ns is None:
        hint = ""
        if name in ("aten", "prims", "quantized", "_c10d_functional"):
            hint = (f": PyTorch's built-in op namespace torch.ops.{name} is not provided by "
                    "ember; call the ember function (ember.add, ember.nn.functional...) instead")
        raise AttributeError(f"module 'ember.ops' has no attribute '{name}'{hint}")
    return ns
