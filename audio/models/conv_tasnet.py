"""Conv-TasNet for ``torchaudio.models``: separates a mono waveform into several sources by
encoding it with a learned filterbank, estimating one mask per source with a stack of
dilated temporal convolutions, and decoding the masked features back to waveforms."""

from __future__ import annotations

import ember
from ember import Tensor, nn

__all__ = ["ConvTasNet", "conv_tasnet_base"]

_NORM_EPS = 1e-08


def _global_norm(channels: int) -> nn.GroupNorm:
    """Layer norm over channels and time together (a one-group GroupNorm)."""
    return nn.GroupNorm(num_groups=1, num_channels=channels, eps=_NORM_EPS)


def _pointwise(c_in: int, c_out: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, kernel_size=1)


class ConvBlock(nn.Module):
    """One temporal block of the separator.

    Expands to ``hidden_channels`` with a 1x1 conv, applies a depthwise dilated conv
    (each followed by PReLU and a global norm), then projects back with two 1x1 convs:
    a residual branch (left out when ``no_residual``) and a skip branch.

    Args:
        io_channels (int): channels entering and leaving the block.
        hidden_channels (int): channels inside the block.
        kernel_size (int): kernel width of the depthwise conv.
        padding (int): padding of the depthwise conv.
        dilation (int, optional): dilation of the depthwise conv (default: 1).
        no_residual (bool, optional): build no residual branch (default: False).
    """

    def __init__(self, io_channels: int, hidden_channels: int, kernel_size: int,
                 padding: int, dilation: int = 1, no_residual: bool = False) -> None:
        super().__init__()
        self.conv_layers = nn.Sequential(
            _pointwise(io_channels, hidden_channels), nn.PReLU(), _global_norm(hidden_channels),
            nn.Conv1d(hidden_channels, hidden_channels, kernel_size=kernel_size,
                      padding=padding, dilation=dilation, groups=hidden_channels),
            nn.PReLU(), _global_norm(hidden_channels))
        self.res_out = None if no_residual else _pointwise(hidden_channels, io_channels)
        self.skip_out = _pointwise(hidden_channels, io_channels)

    def forward(self, input: Tensor) -> tuple[Tensor | None, Tensor]:
        """``(residual, skip)`` for ``input`` of shape (batch, io_channels, time); the
        residual is None for a block built with ``no_residual``."""
        hidden = self.conv_layers(input)
        res = self.res_out(hidden) if self.res_out is not None else None
        return res, self.skip_out(hidden)


class MaskGenerator(nn.Module):
    """The separator: ``num_stacks`` repetitions of ``num_layers`` ConvBlocks with
    dilations 1, 2, 4, ...; the blocks' skip outputs are summed and turned into
    ``num_sources`` masks.

    Args:
        input_dim (int): channels of the encoded input.
        num_sources (int): how many masks to produce.
        kernel_size (int): depthwise kernel width in every block.
        num_feats (int): bottleneck channels between blocks.
        num_hidden (int): channels inside each block.
        num_layers (int): blocks per stack.
        num_stacks (int): number of stacks.
        msk_activate (str): ``"sigmoid"`` or ``"relu"``, applied to the masks.
    """

    def __init__(self, input_dim: int, num_sources: int, kernel_size: int, num_feats: int,
                 num_hidden: int, num_layers: int, num_stacks: int, msk_activate: str) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.num_sources = num_sources
        self.input_norm = _global_norm(input_dim)
        self.input_conv = _pointwise(input_dim, num_feats)
        blocks = []
        field = 0
        total = num_stacks * num_layers
        for k in range(total):
            dil = 2 ** (k % num_layers)
            blocks.append(ConvBlock(io_channels=num_feats, hidden_channels=num_hidden,
                                    kernel_size=kernel_size, padding=dil, dilation=dil,
                                    no_residual=k == total - 1))
            field += kernel_size if k == 0 else (kernel_size - 1) * dil
        self.receptive_field = field
        self.conv_layers = nn.ModuleList(blocks)
        self.output_prelu = nn.PReLU()
        self.output_conv = _pointwise(num_feats, input_dim * num_sources)
        activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
        if msk_activate not in activations:
            raise ValueError(f"Unsupported activation {msk_activate}")
        self.mask_activate = activations[msk_activate]()

    def forward(self, input: Tensor) -> Tensor:
        """Maps (batch, input_dim, time) features to (batch, num_sources, input_dim, time)
        masks."""
        x = self.input_conv(self.input_norm(input))
        skips = 0
        for block in self.conv_layers:
            res, skip = block(x)
            skips = skips + skip
            if res is not None:
                x = x + res
        masks = self.mask_activate(self.output_conv(self.output_prelu(skips)))
        return masks.view(input.shape[0], self.num_sources, self.input_dim, -1)


class ConvTasNet(nn.Module):
    """Conv-TasNet source separation model (Luo & Mesgarani, 2019, "Conv-TasNet:
    Surpassing Ideal Time-Frequency Magnitude Masking for Speech Separation").

    Args:
        num_sources (int, optional): number of separated outputs (default: 2).
        enc_kernel_size (int, optional): encoder/decoder filter length L; the stride is
            half of it (default: 16).
        enc_num_feats (int, optional): encoder filters N (default: 512).
        msk_kernel_size (int, optional): separator kernel width P (default: 3).
        msk_num_feats (int, optional): separator bottleneck channels B (default: 128).
        msk_num_hidden_feats (int, optional): channels inside a separator block H
            (default: 512).
        msk_num_layers (int, optional): blocks per stack X (default: 8).
        msk_num_stacks (int, optional): stacks R (default: 3).
        msk_activate (str, optional): mask nonlinearity, ``"sigmoid"`` or ``"relu"``
            (default: ``"sigmoid"``).
    """

    def __init__(self, num_sources: int = 2, enc_kernel_size: int = 16,
                 enc_num_feats: int = 512, msk_kernel_size: int = 3, msk_num_feats: int = 128,
                 msk_num_hidden_feats: int = 512, msk_num_layers: int = 8,
                 msk_num_stacks: int = 3, msk_activate: str = "sigmoid") -> None:
        super().__init__()
        hop = enc_kernel_size // 2
        self.num_sources = num_sources
        self.enc_num_feats = enc_num_feats
        self.enc_kernel_size = enc_kernel_size
        self.enc_stride = hop
        self.encoder = nn.Conv1d(1, enc_num_feats, kernel_size=enc_kernel_size, stride=hop,
                                 padding=hop, bias=False)
        self.mask_generator = MaskGenerator(
            input_dim=enc_num_feats, num_sources=num_sources, kernel_size=msk_kernel_size,
            num_feats=msk_num_feats, num_hidden=msk_num_hidden_feats,
            num_layers=msk_num_layers, num_stacks=msk_num_stacks, msk_activate=msk_activate)
        self.decoder = nn.ConvTranspose1d(enc_num_feats, 1, kernel_size=enc_kernel_size,
                                          stride=hop, padding=hop, bias=False)

    def _align_num_frames_with_strides(self, input: Tensor) -> tuple[Tensor, int]:
        """Appends zeros to the time axis so that the strided encoder covers it exactly;
        returns the padded tensor and the number of zeros added."""
        short = (input.shape[-1] - self.enc_kernel_size % 2) % self.enc_stride
        if not short:
            return input, 0
        extra = self.enc_stride - short
        zeros = ember.zeros(*input.shape[:-1], extra, dtype=input.dtype, device=input.device)
        return ember.cat([input, zeros], 2), extra

    def forward(self, input: Tensor) -> Tensor:
        """Separates (batch, 1, time) mixtures into (batch, num_sources, time) estimates."""
        if input.ndim != 3 or input.shape[1] != 1:
            raise ValueError(f"Expected 3D tensor (batch, channel==1, frames). "
                             f"Found: {tuple(input.shape)}")
        x, extra = self._align_num_frames_with_strides(input)
        batch, length = x.shape[0], x.shape[-1]
        encoded = self.encoder(x)
        masked = encoded.unsqueeze(1) * self.mask_generator(encoded)
        flat = masked.view(batch * self.num_sources, self.enc_num_feats, -1)
        waves = self.decoder(flat).view(batch, self.num_sources, length)
        return waves[..., :length - extra] if extra else waves


def conv_tasnet_base(num_sources: int = 2) -> ConvTasNet:
    r"""The non-causal Conv-TasNet of the paper's best setting (N=512, L=16, B=128, H=512,
    P=3, X=8, R=3) with a ReLU mask.

    Args:
        num_sources (int, optional): number of separated outputs (default: 2).

    Returns:
        ConvTasNet: the untrained model.
    """
    return ConvTasNet(num_sources=num_sources, enc_kernel_size=16, enc_num_feats=512,
                      msk_kernel_size=3, msk_num_feats=128, msk_num_hidden_feats=512,
                      msk_num_layers=8, msk_num_stacks=3, msk_activate="relu")
