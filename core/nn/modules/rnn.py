"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional, batch_first,
inter-layer dropout, ``PackedSequence`` input) and the single-step cells ``RNNCell``,
``LSTMCell``, ``GRUCell``. Parameter names and layouts are PyTorch's (``weight_ih_l0``,
``bias_hh_l1_reverse``, gates stacked as i|f|g|o for LSTM and r|z|n for GRU), so
checkpoints load as they are. Each layer runs as one fused op (``ember.ops.rnn``)."""

from __future__ import annotations

import math
import numbers
import warnings

from ..._autocast_state import state as _amp
from ..._creation import empty, zeros
from ..._tensor import Tensor
from ...ops import rnn as R
from ...ops.linear import _pt
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATE_SIZE = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_state_dtype(h: Tensor | None, weight: Tensor) -> None:
    """PyTorch's error for a hidden state (or a cell's input) whose dtype is not the
    weights' (outside autocast)."""
    if h is not None and h.dtype != weight.dtype and not _amp.on:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_pt(h)} and "
                           f"{_pt(weight)}")


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (and ``LSTM``'s projections,
    ``proj_size > 0``: parameters ``weight_hr_l{k}``, hidden state of size ``proj_size``)."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATE_SIZE:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate_size = _GATE_SIZE[mode] * hidden_size
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                params = [Parameter(empty((gate_size, layer_input), device=device, dtype=dtype)),
                          Parameter(empty((gate_size, real_hidden), device=device, dtype=dtype))]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(empty(gate_size, device=device, dtype=dtype)),
                               Parameter(empty(gate_size, device=device, dtype=dtype))]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(empty((proj_size, hidden_size), device=device,
                                                  dtype=dtype)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, p in zip(names, params):
                    setattr(self, n, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-k, k), k = 1/sqrt(hidden_size)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op kept for API compatibility (there is no cuDNN weight buffer)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("proj_size", 0)

    # -- running -----------------------------------------------------------------------
    def _layer_params(self, layer: int, direction: int):
        suffix = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        if self.bias:
            return (w_ih, w_hh, getattr(self, f"bias_ih_l{layer}{suffix}"),
                    getattr(self, f"bias_hh_l{layer}{suffix}"))
        return w_ih, w_hh, None, None

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None, lengths):
        """All layers over time-major ``x`` (T, B, I); returns (output, h_n, c_n)."""
        nd = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        h_out, c_out = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(nd):
                k = layer * nd + d
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
                w_hr = getattr(self, f"weight_hr_l{layer}{'_reverse' if d else ''}") \
                    if self.proj_size > 0 else None
                res = R.rnn_layer(self.mode, layer_in, h0[k], c0[k] if lstm else None, w_ih,
                                  w_hh, b_ih, b_hh, reverse=d == 1, lengths=lengths,
                                  w_hr=w_hr)
                outs.append(res[0])
                h_out.append(res[1])
                if lstm:
                    c_out.append(res[2])
            layer_in = outs[0] if nd == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        return layer_in, stack(h_out, 0), (stack(c_out, 0) if lstm else None)

    def _check_hidden(self, hx: Tensor, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(list(expected), list(hx.shape)))

    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        nd = 2 if self.bidirectional else 1
        packed = isinstance(input, PackedSequence)
        lengths = None
        unbatched = False
        if packed:
            from ..utils.rnn import pad_packed_sequence

            padded, lens = pad_packed_sequence(
                PackedSequence(input.data, input.batch_sizes, None, None))
            x = padded  # (T, B, I), batches sorted by decreasing length
            lengths = [int(n) for n in lens.tolist()]
            sorted_idx = input.sorted_indices
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                                 f"{input.ndim}D instead")
            unbatched = input.ndim == 2
            x = input
            if unbatched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
            sorted_idx = None
        w0 = self.weight_ih_l0
        if x.dtype != w0.dtype and not _amp.on:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({w0.dtype}). Convert input: input.to({w0.dtype}), or convert "
                             f"model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        b = x.shape[1]
        hshape = (self.num_layers * nd, b,
                  self.proj_size if self.proj_size > 0 else self.hidden_size)
        cshape = (self.num_layers * nd, b, self.hidden_size)
        if hx is None:
            h0 = zeros(hshape, dtype=x.dtype, device=x.device)
            c0 = zeros(cshape, dtype=x.dtype, device=x.device) if lstm else None
        else:
            if lstm:
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            if unbatched:
                if h0.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but "
                                       f"got {h0.ndim}-D tensor")
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            elif h0.ndim != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{h0.ndim}-D tensor")
            if sorted_idx is not None:
                h0 = h0.index_select(1, sorted_idx)
                c0 = c0.index_select(1, sorted_idx) if c0 is not None else None
            self._check_hidden(h0, hshape, "Expected hidden[0] size {}, got {}" if lstm
                               else "Expected hidden size {}, got {}")
            if lstm:
                self._check_hidden(c0, cshape, "Expected hidden[1] size {}, got {}")
            _check_state_dtype(h0, w0)
            _check_state_dtype(c0, w0)
        out, h_n, c_n = self._run(x, h0, c0, lengths)
        if packed:
            from ..utils.rnn import pack_padded_sequence

            repacked = pack_padded_sequence(out, lengths)
            out = PackedSequence(repacked.data, input.batch_sizes, input.sorted_indices,
                                 input.unsorted_indices)
            if input.unsorted_indices is not None:
                h_n = h_n.index_select(1, input.unsorted_indices)
                c_n = c_n.index_select(1, input.unsorted_indices) if c_n is not None else None
        elif unbatched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)


class RNN(RNNBase):
    """Multi-layer Elman RNN with tanh or ReLU nonlinearity."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        nonlinearity = self.nonlinearity
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer long short-term memory: returns ``output, (h_n, c_n)``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Multi-layer gated recurrent unit: returns ``output, h_n``."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Parameters shared by the single-step cells."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device,
                                         dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size),
                                         device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device,
                                           dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device,
                                           dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-k, k), k = 1/sqrt(hidden_size)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode: str, input: Tensor, hx, lstm: bool):
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.ndim}D instead")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        b = x.shape[0]
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        _check_state_dtype(x, self.weight_ih)
        if hx is None:
            h = zeros((b, self.hidden_size), dtype=x.dtype, device=x.device)
            c = h if lstm else None
        elif lstm:
            h, c = hx
            if unbatched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
        else:
            h, c = (hx.unsqueeze(0) if unbatched else hx), None
        for i, t in enumerate((h, c) if lstm else (h,)):
            if t.ndim == 2 and t.shape[0] != b:
                raise RuntimeError(f"Input batch size {b} doesn't match hidden{i} batch size "
                                   f"{t.shape[0]}")
            if t.ndim == 2 and t.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{t.shape[1]}, expected {self.hidden_size}")
            _check_state_dtype(t, self.weight_hh)
        res = R.rnn_layer(mode, x.unsqueeze(0), h, c, self.weight_ih, self.weight_hh,
                          self.bias_ih, self.bias_hh)
        h_new = res[1]
        if lstm:
            c_new = res[2]
            return (h_new.squeeze(0), c_new.squeeze(0)) if unbatched else (h_new, c_new)
        return h_new.squeeze(0) if unbatched else h_new


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, hx, False)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        return self._step("LSTM", input, hx, True)


class GRUCell(RNNCellBase):
    """One GRU step: returns ``h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step("GRU", input, hx, False)
