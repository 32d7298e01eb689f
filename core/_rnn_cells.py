"""``torch.lstm_cell``, ``torch.gru_cell``, ``torch.rnn_tanh_cell`` and ``torch.rnn_relu_cell``:
one recurrent step on explicit weights, the functional form of ``nn.LSTMCell`` and friends.

Each runs the fused cell of ``ember.ops.rnn`` for a sequence of length one, so its values and
gradients are those of the modules. Input is (batch, input_size) or unbatched (input_size);
a missing bias counts as zeros.
"""

from __future__ import annotations

from ._tensor import Tensor

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]


def _step(mode: str, name: str, input: Tensor, h: Tensor, c, w_ih: Tensor, w_hh: Tensor,
          b_ih, b_hh):
    from .ops import rnn as R

    if input.ndim not in (1, 2):
        raise RuntimeError(f"{name}: expected input to be 1-D or 2-D, got {input.ndim}-D")
    gates = w_ih.shape[0]
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] != gates or \
            input.shape[-1] != w_ih.shape[1] or h.shape[-1] != w_hh.shape[1]:
        raise RuntimeError(f"{name}: shapes do not match: input {list(input.shape)}, hidden "
                           f"{list(h.shape)}, w_ih {list(w_ih.shape)}, w_hh "
                           f"{list(w_hh.shape)}")
    unbatched = input.ndim == 1
    if unbatched:
        input, h = input.unsqueeze(0), h.unsqueeze(0)
        c = c.unsqueeze(0) if c is not None else None
    if (b_ih is None) != (b_hh is None):
        b_ih = b_ih if b_ih is not None else b_hh.new_zeros(gates)
        b_hh = b_hh if b_hh is not None else b_ih.new_zeros(gates)
    res = R.rnn_layer(mode, input.unsqueeze(0), h, c, w_ih, w_hh, b_ih, b_hh)
    h_new = res[1].squeeze(0) if unbatched else res[1]
    if mode != "LSTM":
        return h_new
    return h_new, (res[2].squeeze(0) if unbatched else res[2])


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None):
    """One LSTM step: ``(h', c')`` from ``hx = (h, c)``; gates ordered input, forget, cell,
    output in the rows of ``w_ih`` (4H, I) and ``w_hh`` (4H, H)."""
    if len(hx) != 2:
        raise RuntimeError(f"lstm_cell: expected hx to hold (h, c), got {len(hx)} tensors")
    return _step("LSTM", "lstm_cell", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: ``h'``; gates ordered reset, update, new in the rows of ``w_ih`` (3H, I)
    and ``w_hh`` (3H, H)."""
    return _step("GRU", "gru_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman step: ``tanh(x w_ih^T + b_ih + h w_hh^T + b_hh)``."""
    return _step("RNN_TANH", "rnn_tanh_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with ReLU: ``relu(x w_ih^T + b_ih + h w_hh^T + b_hh)``."""
    return _step("RNN_RELU", "rnn_relu_cell", input, hx, None, w_ih, w_hh, b_ih, b_hh)
