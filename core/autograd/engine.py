"""The backward engine: runs the graph in reverse topological order, iteratively.

``run_backward`` serves both ``Tensor.backward`` (accumulate into ``.grad`` of leaves) and
``autograd.grad`` (return the gradients of chosen inputs, touching no ``.grad``). Only the
part of the graph that leads to the wanted tensors is executed.
"""

from __future__ import annotations

from .anomaly_mode import _Anomaly, check_backward_output, warn_forward_trace
from .grad_mode import _State
from .graph import AccumulateGrad

__all__ = ["run_backward"]


def _edge_of(t):
    """The (node, output index) whose gradient is the gradient of tensor ``t``."""
    if t._base is not None and t._view_ver != t._vc[0]:
        t._refresh_view()
    if t.grad_fn is not None:
        return t.grad_fn, t._out_nr
    if not t.requires_grad:
        return None, 0
    return t._accumulator(), 0


def _collect(roots):
    """Dependency counts (incoming edges) of every node reachable from ``roots``, and the
    nodes in a DFS post-order (children before parents)."""
    deps: dict = {}
    order = []
    seen = set()
    stack = []
    for node in roots:
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            stack.append((node, iter(node.next_functions)))
    while stack:
        node, it = stack[-1]
        advanced = False
        for child, _ in it:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child.next_functions)))
                advanced = True
                break
        if not advanced:
            stack.pop()
            order.append(node)
    return deps, order


_final_callbacks: list = []  # one list per backward pass in progress (innermost last)


def queue_callback(fn) -> None:
    """Runs ``fn()`` once the backward pass in progress has finished, before ``backward()``
    returns (PyTorch's ``Variable._execution_engine.queue_callback``; DistributedDataParallel
    averages gradients this way)."""
    if not _final_callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _final_callbacks[-1].append(fn)


def run_backward(tensors, grad_tensors, retain_graph: bool, create_graph: bool,
                 inputs=None, accumulate: bool = True, allow_unused: bool = True):
    """Backpropagates ``grad_tensors`` from ``tensors``.

    With ``accumulate`` the gradients of leaves (or of ``inputs`` only, when given) are added
    to their ``.grad``. Without it, the gradients of ``inputs`` are returned as a tuple.
    """
    roots = []
    for t, g in zip(tensors, grad_tensors):
        node, nr = _edge_of(t)
        if node is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        roots.append((node, nr, g))

    deps, order = _collect([r[0] for r in roots])

    # targets: node -> list of (output index, position in inputs)
    targets = None
    if inputs is not None:
        targets = {}
        for pos, t in enumerate(inputs):
            node, nr = _edge_of(t)
            if node is None:
                if accumulate:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(node, []).append((nr, pos))
        # keep only nodes that lead to a target
        needed = set()
        for node in order:  # children come before parents
            if node in targets or any(c in needed for c, _ in node.next_functions
                                      if c is not None):
                needed.add(node)
        # autograd.grad: a target's own backward runs only when a further target lies below
        # it, so the graph beyond the wanted tensors is neither executed nor freed (as in
        # PyTorch, whose backward(inputs=[non-leaf]) does run, and free, the target's node)
        execute = None if accumulate else {
            node for node in needed
            if any(c in needed for c, _ in node.next_functions if c is not None)}
    else:
        needed = execute = None

    results = [None] * (len(inputs) if inputs is not None else 0)
    buffers: dict = {}
    # gradients referenced from more than one place (or owned by the caller): AccumulateGrad
    # copies these instead of adopting them as ``.grad``
    shared: dict = {}

    for node, nr, g in roots:
        _add(buffers, shared, node, nr, g, True)

    ready = list(dict.fromkeys(node for node, _, _ in roots if deps.get(node, 0) == 0))
    prev_mode = _State.enabled
    _State.enabled = create_graph
    _final_callbacks.append([])
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            nexts = node.next_functions
            out_grads = None
            if grads is not None and (needed is None or node in needed):
                if node._tensor_hooks or node._pre_hooks:
                    grads = _apply_tensor_hooks(node, grads)
                if targets is not None and node in targets:
                    for nr, pos in targets[node]:
                        g = grads[nr]
                        if not accumulate and g is not None and id(g) in shared \
                                and not create_graph:
                            g = g.detach()
                        results[pos] = g
                        if accumulate and g is not None and type(node) is not AccumulateGrad:
                            _accumulate_into(inputs[pos], g, create_graph)
                if type(node) is AccumulateGrad:
                    g0 = grads[0]
                    if accumulate and g0 is not None and (targets is None or node in targets):
                        node.accumulate(g0, create_graph, id(g0) in shared)
                elif (execute is None or node in execute) \
                        and any(g is not None for g in grads):
                    out_grads = (_call_backward_checked(node, grads) if _Anomaly.enabled
                                 else _call_backward(node, grads))
                    if not retain_graph:
                        node._release()
                    _mark_shared(shared, grads, out_grads)
            if out_grads is None:
                for child, _nr in nexts:
                    if child is not None:
                        d = deps[child] - 1
                        deps[child] = d
                        if d == 0:
                            ready.append(child)
                continue
            for (child, nr), g in zip(nexts, out_grads):
                if child is None:
                    continue
                if g is not None:
                    _add(buffers, shared, child, nr, g, id(g) in shared)
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)
    finally:
        _State.enabled = prev_mode
        queued = _final_callbacks.pop()
    for fn in queued:
        fn()

    if not accumulate and inputs is not None and not allow_unused:
        for g in results:
            if g is None:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
    return tuple(results)


def _add(buffers: dict, shared: dict, node, nr: int, g, is_shared: bool) -> None:
    """Adds gradient ``g`` for output ``nr`` of ``node`` to its input buffer."""
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node._n_outputs
    old = buf[nr]
    if old is None:
        buf[nr] = g
        if is_shared:
            shared[id(g)] = g
    elif type(old) is type(g):
        buf[nr] = old + g  # a fresh tensor
    else:
        buf[nr] = _mixed_sum(old, g)


def _mixed_sum(a, b):
    """``a + b`` for gradients of different types: a sparse COO gradient (from
    ``nn.Embedding(sparse=True)``) and a dense one sum to a dense tensor, as in PyTorch."""
    from ..sparse import SparseTensor, add_dense

    if type(a) is SparseTensor:
        return add_dense(b, a)
    if type(b) is SparseTensor:
        return add_dense(a, b)
    return a + b


def _mark_shared(shared: dict, grads, out_grads) -> None:
    """Records output gradients that are passed through unchanged or handed out twice."""
    n = len(out_grads)
    for i, g in enumerate(out_grads):
        if g is None:
            continue
        gid = id(g)
        if gid in shared:
            continue
        for x in grads:
            if x is g:
                shared[gid] = g
                break
        else:
            for j in range(i + 1, n):
                if out_grads[j] is g:
                    shared[gid] = g
                    break


def _accumulate_into(t, g, create_graph: bool) -> None:
    """``backward(inputs=[t])`` for a non-leaf ``t``: adds ``g`` to ``t.grad``."""
    if not create_graph:
        g = g.detach().clone()
    t.grad = g if t.grad is None else t.grad + g


def _apply_tensor_hooks(node, grads):
    pre = node._pre_hooks
    hooks = node._tensor_hooks
    if hooks:
        grads = list(grads)
        for nr, per_out in hooks.items():
            fns = list(per_out.values())
            for fn in fns:  # retain_grad's hook runs last, seeing the other hooks' result
                if grads[nr] is not None and not getattr(fn, "_retains_grad", False):
                    r = fn(grads[nr])
                    if r is not None:
                        grads[nr] = r
            for fn in fns:
                if grads[nr] is not None and getattr(fn, "_retains_grad", False):
                    fn(grads[nr])
    if pre:
        for fn in list(pre.values()):
            r = fn(tuple(grads))
            if r is not None:
                grads = list(r)
    return grads


def _call_backward(node, grads):
    out = node.backward(*grads)
    if not isinstance(out, tuple):
        out = (out,)
    n_in = len(node.next_functions)
    if len(out) != n_in:
        if len(out) > n_in and all(g is None for g in out[n_in:]):
            out = out[:n_in]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(out)})")
    post = node._post_hooks
    if post:
        for fn in list(post.values()):
            r = fn(out, tuple(grads))
            if r is not None:
                out = tuple(r)
    return out


def _call_backward_checked(node, grads):
    """``_call_backward`` under anomaly detection: names the forward op of a failing or
    NaN-producing backward."""
    try:
        out = _call_backward(node, grads)
    except Exception:
        warn_forward_trace(node)
        raise
    check_backward_output(node, out)
    return out
