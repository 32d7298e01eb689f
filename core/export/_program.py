"""``ExportedProgram`` and ``export``/``save``/``load`` (see the package docstring)."""

from __future__ import annotations

from .. import jit

__all__ = ["Dim", "ExportedProgram", "export", "load", "save"]


class ExportedProgram:
    """A traced program: its graph, its weights, and ``module()`` to run it."""

    def __init__(self, traced, example_inputs=None):
        self._traced = traced
        self.example_inputs = example_inputs

    def module(self):
        """A callable module that replays the program (shares its weights)."""
        return self._traced

    @property
    def graph(self):
        """The recorded op graph."""
        return self._traced.graph

    @property
    def graph_module(self):
        """The replaying module (``module()``)."""
        return self._traced

    @property
    def state_dict(self) -> dict:
        """The program's parameters and persistent buffers, under the model's
        ``state_dict`` keys: a dict attribute, as ``ExportedProgram.state_dict`` is in
        PyTorch (not a method)."""
        return dict(self._traced.state_dict(keep_vars=True))

    @property
    def constants(self) -> dict:
        """Tensor constants lifted out of the graph: none in ember (constants stay in the
        recorded graph)."""
        return {}

    tensor_constants = constants

    def named_parameters(self):
        """``(name, parameter)`` pairs of the program's parameters."""
        yield from self._traced.named_parameters()

    def parameters(self):
        """The program's parameters."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self):
        """``(name, buffer)`` pairs of the program's buffers."""
        yield from self._traced.named_buffers()

    def buffers(self):
        """The program's buffers."""
        for _, b in self.named_buffers():
            yield b

    def run_decompositions(self, decomp_table=None, **kwargs):
        """The program itself: ember's graph is already made of its primitive ops."""
        return self

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use "
                           "`exported_program.module()` instead.")

    def __str__(self) -> str:
        return f"ExportedProgram:\n{self._traced.graph}"


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict: bool = False,
           preserve_module_call_signature=()) -> ExportedProgram:
    """Records ``mod(*args)`` as an ``ExportedProgram`` (``torch.export.export``).

    ``dynamic_shapes`` may only mark dimensions static (``None``, ``Dim.STATIC``): a
    dynamic dimension raises ``NotImplementedError``, since the program keeps the example's
    shapes."""
    from ..nn.modules.module import Module

    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got "
                         f"{type(mod)}.")
    if kwargs:
        raise NotImplementedError("ember.export.export: keyword example inputs are not "
                                  "supported; pass them positionally")
    if not _all_static(dynamic_shapes):
        raise NotImplementedError("ember.export.export: dynamic_shapes is not supported; an "
                                  "ember program keeps the example's shapes (export once per "
                                  "shape)")
    if not isinstance(args, tuple):
        raise ValueError(f"Expecting `args` to be a tuple of example positional inputs, got "
                         f"{type(args).__name__}")
    traced = jit.trace(mod, args, check_trace=False)
    return ExportedProgram(traced, (args, kwargs or {}))


def save(ep: ExportedProgram, f, *, extra_files=None, opset_version=None,
         pickle_protocol: int = 2) -> None:
    """Writes ``ep`` to ``f`` in ember's portable format (atomic for paths)."""
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got "
                        f"'{type(ep).__name__}' instead.")
    jit.save(ep.module(), f)


def load(f, *, extra_files=None, expected_opset_version=None) -> ExportedProgram:
    """Reads a program written by ``save``."""
    return ExportedProgram(jit.load(f))


def _all_static(spec) -> bool:
    """Whether a ``dynamic_shapes`` spec marks no dimension dynamic."""
    if spec is None or spec is Dim.STATIC:
        return True
    if isinstance(spec, dict):
        return all(_all_static(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return all(_all_static(v) for v in spec)
    return False


class _DimHint:
    """``Dim.AUTO``, ``Dim.DYNAMIC`` and ``Dim.STATIC``: how ``export`` should treat a
    dimension without naming it."""

    def __init__(self, kind: str):
        self.type = kind

    def __repr__(self) -> str:
        return f"DimHint({self.type})"


class Dim:
    """``torch.export.Dim`` names a dynamic dimension; ember's programs keep static shapes,
    so passing one (or ``Dim.AUTO``/``Dim.DYNAMIC``) to ``export`` raises; ``Dim.STATIC``
    is accepted."""

    AUTO = _DimHint("AUTO")
    DYNAMIC = _DimHint("DYNAMIC")
    STATIC = _DimHint("STATIC")

    def __init__(self, name: str, *, min: int | None = None, max: int | None = None):
        self.__name__ = name
        self.min, self.max = min, max

    def __repr__(self) -> str:
        return f"Dim({self.__name__!r}, min={self.min}, max={self.max})"
