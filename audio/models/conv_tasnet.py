"""Conv-TasNet (``torchaudio.models.ConvTasNet``): time-domain source separation with a
learned encoder, a temporal-convolution mask generator and a learned decoder."""

from __future__ import annotations

import ember
from ember import Tensor, nn

__all__ = ["ConvTasNet", "conv_tasnet_base"]


class ConvBlock(nn.Module):
    """1D convolutional block: 1x1 conv, PReLU, global layer norm, depthwise dilated conv,
    PReLU, norm; then a 1x1 residual output (absent with ``no_residual``) and a 1x1 skip
    output.

    Args:
        io_channels (int): The number of input/output channels, <B, Sc>
        hidden_channels (int): The number of channels in the internal layers, <H>.
        kernel_size (int): The convolution kernel size of the middle layer, <P>.
        padding (int): Padding value of the convolution in the middle layer.
        dilation (int, optional): Dilation value of the convolution in the middle layer.
        no_residual (bool, optional): Disable residual block/output.
    """

    def __init__(self, io_channels: int, hidden_channels: int, kernel_size: int,
                 padding: int, dilation: int = 1, no_residual: bool = False) -> None:
        super().__init__()
        self.conv_layers = nn.Sequential(
            nn.Conv1d(io_channels, hidden_channels, kernel_size=1),
            nn.PReLU(),
            nn.GroupNorm(num_groups=1, num_channels=hidden_channels, eps=1e-08),
            nn.Conv1d(hidden_channels, hidden_channels, kernel_size=kernel_size,
                      padding=padding, dilation=dilation, groups=hidden_channels),
            nn.PReLU(),
            nn.GroupNorm(num_groups=1, num_channels=hidden_channels, eps=1e-08),
        )
        self.res_out = (None if no_residual
                        else nn.Conv1d(hidden_channels, io_channels, kernel_size=1))
        self.skip_out = nn.Conv1d(hidden_channels, io_channels, kernel_size=1)

    def forward(self, input: Tensor) -> tuple[Tensor | None, Tensor]:
        """Return ``(residual or None, skip)``, each (batch, io_channels, frames)."""
        feature = self.conv_layers(input)
        residual = None if self.res_out is None else self.res_out(feature)
        return residual, self.skip_out(feature)


class MaskGenerator(nn.Module):
    """TCN (Temporal Convolution Network) Separation Module: stacks of ConvBlocks with
    dilations 1, 2, 4, ... whose skip outputs are summed into one mask per source.

    Args:
        input_dim (int): Input feature dimension, <N>.
        num_sources (int): The number of sources to separate.
        kernel_size (int): The convolution kernel size of conv blocks, <P>.
        num_feats (int): Input/output feature dimension of conv blocks, <B, Sc>.
        num_hidden (int): Intermediate feature dimension of conv blocks, <H>
        num_layers (int): The number of conv blocks in one stack, <X>.
        num_stacks (int): The number of conv block stacks, <R>.
        msk_activate (str): The activation function of the mask output ("sigmoid", "relu").
    """

    def __init__(self, input_dim: int, num_sources: int, kernel_size: int, num_feats: int,
                 num_hidden: int, num_layers: int, num_stacks: int, msk_activate: str) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.num_sources = num_sources
        self.input_norm = nn.GroupNorm(num_groups=1, num_channels=input_dim, eps=1e-08)
        self.input_conv = nn.Conv1d(input_dim, num_feats, kernel_size=1)
        self.receptive_field = 0
        self.conv_layers = nn.ModuleList([])
        for s in range(num_stacks):
            for layer in range(num_layers):
                dilation = 2 ** layer
                last = layer == num_layers - 1 and s == num_stacks - 1
                self.conv_layers.append(ConvBlock(
                    io_channels=num_feats, hidden_channels=num_hidden, kernel_size=kernel_size,
                    dilation=dilation, padding=dilation, no_residual=last))
                self.receptive_field += (kernel_size if s == 0 and layer == 0
                                         else (kernel_size - 1) * dilation)
        self.output_prelu = nn.PReLU()
        self.output_conv = nn.Conv1d(num_feats, input_dim * num_sources, kernel_size=1)
        if msk_activate == "sigmoid":
            self.mask_activate = nn.Sigmoid()
        elif msk_activate == "relu":
            self.mask_activate = nn.ReLU()
        else:
            raise ValueError(f"Unsupported activation {msk_activate}")

    def forward(self, input: Tensor) -> Tensor:
        """Masks (batch, num_sources, input_dim, frames) from features (batch, input_dim,
        frames)."""
        feats = self.input_conv(self.input_norm(input))
        output = None
        for block in self.conv_layers:
            residual, skip = block(feats)
            if residual is not None:
                feats = feats + residual
            output = skip if output is None else output + skip
        output = self.mask_activate(self.output_conv(self.output_prelu(output)))
        return output.view(input.shape[0], self.num_sources, self.input_dim, -1)


class ConvTasNet(nn.Module):
    """Conv-TasNet architecture introduced in *Conv-TasNet: Surpassing Ideal Time-Frequency
    Magnitude Masking for Speech Separation* (Luo and Mesgarani, 2019).

    Args:
        num_sources (int, optional): The number of sources to split.
        enc_kernel_size (int, optional): The convolution kernel size of the encoder/decoder,
            <L>.
        enc_num_feats (int, optional): The feature dimensions passed to mask generator, <N>.
        msk_kernel_size (int, optional): The convolution kernel size of the mask generator,
            <P>.
        msk_num_feats (int, optional): The input/output feature dimension of conv block in
            the mask generator, <B, Sc>.
        msk_num_hidden_feats (int, optional): The internal feature dimension of conv block of
            the mask generator, <H>.
        msk_num_layers (int, optional): The number of layers in one conv block of the mask
            generator, <X>.
        msk_num_stacks (int, optional): The numbr of conv blocks of the mask generator, <R>.
        msk_activate (str, optional): The activation function of the mask output
            (Default: ``sigmoid``).
    """

    def __init__(self, num_sources: int = 2, enc_kernel_size: int = 16,
                 enc_num_feats: int = 512, msk_kernel_size: int = 3, msk_num_feats: int = 128,
                 msk_num_hidden_feats: int = 512, msk_num_layers: int = 8,
                 msk_num_stacks: int = 3, msk_activate: str = "sigmoid") -> None:
        super().__init__()
        self.num_sources = num_sources
        self.enc_num_feats = enc_num_feats
        self.enc_kernel_size = enc_kernel_size
        self.enc_stride = enc_kernel_size // 2
        self.encoder = nn.Conv1d(1, enc_num_feats, kernel_size=enc_kernel_size,
                                 stride=self.enc_stride, padding=self.enc_stride, bias=False)
        self.mask_generator = MaskGenerator(
            input_dim=enc_num_feats, num_sources=num_sources, kernel_size=msk_kernel_size,
            num_feats=msk_num_feats, num_hidden=msk_num_hidden_feats,
            num_layers=msk_num_layers, num_stacks=msk_num_stacks, msk_activate=msk_activate)
        self.decoder = nn.ConvTranspose1d(enc_num_feats, 1, kernel_size=enc_kernel_size,
                                          stride=self.enc_stride, padding=self.enc_stride,
                                          bias=False)

    def _align_num_frames_with_strides(self, input: Tensor) -> tuple[Tensor, int]:
        """Zero-pad the end of ``input`` (batch, channel, frames) so that the encoder's
        strides cover every frame; return the padded input and the number of pads."""
        batch_size, num_channels, num_frames = input.shape
        is_odd = self.enc_kernel_size % 2
        remainder = (num_frames - is_odd) % self.enc_stride
        if remainder == 0:
            return input, 0
        num_pads = self.enc_stride - remainder
        pad = ember.zeros(batch_size, num_channels, num_pads, dtype=input.dtype,
                          device=input.device)
        return ember.cat([input, pad], 2), num_pads

    def forward(self, input: Tensor) -> Tensor:
        """Perform source separation: (batch, 1, frames) -> (batch, num_sources, frames)."""
        if input.ndim != 3 or input.shape[1] != 1:
            raise ValueError(f"Expected 3D tensor (batch, channel==1, frames). "
                             f"Found: {tuple(input.shape)}")
        padded, num_pads = self._align_num_frames_with_strides(input)
        batch_size, num_padded_frames = padded.shape[0], padded.shape[2]
        feats = self.encoder(padded)  # (B, N, L)
        masked = self.mask_generator(feats) * feats.unsqueeze(1)  # (B, S, N, L)
        masked = masked.view(batch_size * self.num_sources, self.enc_num_feats, -1)
        decoded = self.decoder(masked)  # (B * S, 1, frames)
        output = decoded.view(batch_size, self.num_sources, num_padded_frames)
        return output[..., :-num_pads] if num_pads > 0 else output


def conv_tasnet_base(num_sources: int = 2) -> ConvTasNet:
    r"""Builds non-causal version of :class:`ConvTasNet`: the model of the paper's
    best configuration (N=512, L=16, B=128, H=512, P=3, X=8, R=3) with a ReLU mask.

    Args:
        num_sources (int, optional): The number of sources to split.

    Returns:
        ConvTasNet: The model.
    """
    return ConvTasNet(num_sources=num_sources, enc_kernel_size=16, enc_num_feats=512,
                      msk_kernel_size=3, msk_num_feats=128, msk_num_hidden_feats=512,
                      msk_num_layers=8, msk_num_stacks=3, msk_activate="relu")
