"""``ember.fx``: symbolic tracing and graph transformation of modules, as ``torch.fx``.

``symbolic_trace(model)`` runs ``model.forward`` on ``Proxy`` values and records each
operation as a ``Node`` of a ``Graph``; the result is a ``GraphModule`` whose generated
``forward`` (``gm.code``) runs that graph and gives the model's results. Graphs can be edited
(``Graph`` / ``Node`` methods, ``subgraph_rewriter.replace_pattern``), interpreted node by node
(``Interpreter``, ``passes.shape_prop.ShapeProp``) or rewritten (``Transformer``).

Node names, opcodes, targets and the generated code follow PyTorch's FX for the same
program, so tools that address nodes by name keep working. ember functions appear under their
public names (``ember.relu``, ``ember.nn.functional.relu``): while a trace runs, the Python
functions of ember's op namespaces run a recording trampoline instead of their own code (see
``_patching``), so ember's op path has no tracing check at all outside a trace.

Departures from torch.fx: the code swap is process-wide during a trace (trace from one thread
at a time); a ``concrete_args`` placeholder defaults to its concrete value (torch: to the
parameter's default); ``call_method`` nodes of in-place methods (``add_``) count as impure
for ``eliminate_dead_code``.
"""

from __future__ import annotations

from . import immutable_collections, node, passes, proxy, subgraph_rewriter  # noqa: F401
from ._symbolic_trace import PH, Tracer, is_fx_tracing, symbolic_trace, wrap
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from .subgraph_rewriter import replace_pattern

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Node", "Proxy",
           "Interpreter", "Transformer", "map_arg", "has_side_effect", "replace_pattern",
           "is_fx_tracing", "PH", "subgraph_rewriter", "passes", "immutable_collections",
           "node", "proxy"]
