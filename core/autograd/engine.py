"""The backward engine: runs the graph in reverse topological order, iteratively.

``run_backward`` serves both ``Tensor.backward`` (accumulate into ``.grad`` of leaves) and
``autograd.grad`` (return the gradients of chosen inputs, touching no ``.grad``). Only the
part of the graph that leads to the wanted tensors is executed.
"""

from __future__ import annotations

from .grad_mode import _State
from .graph import AccumulateGrad

__all__ = ["run_backward"]


def _edge_of(t):
    """The (node, output index) whose gradient is the gradient of tensor ``t``."""
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
    else:
        needed = None

    results = [None] * (len(inputs) if inputs is not None else 0)
    buffers: dict = {}
    shared: dict = {}  # id -> tensor: gradients that are referenced from more than one place

    def _add(node, nr, g, is_shared):
        buf = buffers.get(node)
        if buf is None:
            n = getattr(node, "_n_outputs", 1) or 1
            buf = buffers[node] = [None] * n
        old = buf[nr]
        if old is None:
            buf[nr] = g
            if is_shared:
                shared[id(g)] = g
        else:
            buf[nr] = old + g  # a fresh tensor

    for node, nr, g in roots:
        _add(node, nr, g, True)

    ready = [node for node, _, _ in roots if deps.get(node, 0) == 0]
    ready = list(dict.fromkeys(ready))
    prev_mode = _State.enabled
    _State.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            run = grads is not None and (needed is None or node in needed)
            if run:
                grads = _apply_tensor_hooks(node, grads)
                if targets is not None and node in targets:
                    for nr, pos in targets[node]:
                        g = grads[nr]
                        if accumulate:
                            pass
                        elif g is not None and id(g) in shared and not create_graph:
                            g = g.detach()
                        results[pos] = g
                if isinstance(node, AccumulateGrad):
                    if accumulate and (targets is None or node in targets) and grads[0] is not None:
                        node.accumulate(grads[0], create_graph, id(grads[0]) in shared)
                    out_grads = ()
                elif all(g is None for g in grads):
                    out_grads = (None,) * len(node.next_functions)
                else:
                    out_grads = _call_backward(node, grads)
                    if not retain_graph:
                        node._release()
                    seen_ids = {id(g) for g in grads if g is not None}
                    counts: dict = {}
                    for g in out_grads:
                        if g is not None:
                            counts[id(g)] = counts.get(id(g), 0) + 1
                    for g in out_grads:
                        if g is not None and (counts[id(g)] > 1 or id(g) in seen_ids
                                              or id(g) in shared):
                            shared[id(g)] = g
            else:
                out_grads = (None,) * len(node.next_functions)
            for (child, nr), g in zip(node.next_functions, out_grads):
                if child is None:
                    continue
                if g is not None:
                    _add(child, nr, g, id(g) in shared)
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)
    finally:
        _State.enabled = prev_mode

    if not accumulate and inputs is not None and not allow_unused:
        for g in results:
            if g is None:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
    return tuple(results)


def _apply_tensor_hooks(node, grads):
    pre = getattr(node, "_pre_hooks", None)
    hooks = getattr(node, "_tensor_hooks", None)
    if hooks:
        grads = list(grads)
        for nr, per_out in hooks.items():
            for fn in list(per_out.values()):
                if grads[nr] is None:
                    continue
                r = fn(grads[nr])
                if r is not None:
                    grads[nr] = r
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
    post = getattr(node, "_post_hooks", None)
    if post:
        for fn in list(post.values()):
            r = fn(out, tuple(grads))
            if r is not None:
                out = tuple(r)
    return out
