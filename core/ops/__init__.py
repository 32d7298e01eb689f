"""ember's op families, one per file: elementwise, compare, reduce, shape, index, linalg.
Each differentiable op is one ``Op`` subclass (see ``op.py``)."""
