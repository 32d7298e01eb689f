"""Building blocks of wav2vec 2.0 / HuBERT (``torchaudio.models.wav2vec2.components``).

The model has two halves:

* the *feature extractor*: a stack of strided 1-d convolutions over the raw waveform
  (batch, time) -> (batch, frame, channel), with one GroupNorm on the first block
  (``"group_norm"`` mode, base models) or a LayerNorm over channels on every block
  (``"layer_norm"`` mode, large models); each block ends in GELU;
* the *encoder*: a feature projection (LayerNorm, Linear, Dropout), then a Transformer
  whose input gets a convolutional positional embedding (a weight-normed grouped conv),
  followed by ``num_layers`` self-attention + feed-forward layers, either post-norm
  (wav2vec 2.0 base, HuBERT base) or pre-norm (``layer_norm_first``: large models).

Attribute names, and so ``state_dict`` keys and their order, are torchaudio's, which are
also Hugging Face's (``conv_layers.N.conv``, ``pos_conv_embed.conv``, ``attention.q_proj``...).
"""

from __future__ import annotations

import ember
import ember.nn.functional as F
from ember import Tensor, nn

__all__ = ["LayerNorm", "ConvLayerBlock", "FeatureExtractor", "FeatureProjection",
           "ConvolutionalPositionalEmbedding", "SelfAttention", "FeedForward", "EncoderLayer",
           "Transformer", "Encoder"]

# The additive attention bias of a padded key (torchaudio's value; exp(-1e4) is 0 in float32).
_MASK_VALUE = -10000.0


class LayerNorm(nn.LayerNorm):
    """LayerNorm over the channel axis of a channel-first (batch, channel, frame) input."""

    def forward(self, input: Tensor) -> Tensor:
        """Normalizes (batch, channel, frame) over ``channel``; same shape out."""
        x = input.transpose(-2, -1)  # (batch, frame, channel)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.transpose(-2, -1)


class ConvLayerBlock(nn.Module):
    """One block of the feature extractor: Conv1d (no padding), optional norm, GELU.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int): kernel width.
        stride (int): stride.
        bias (bool): whether the convolution has a bias.
        layer_norm (nn.Module or None): normalization applied after the convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 bias: bool, layer_norm: nn.Module | None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride
        self.layer_norm = layer_norm  # registered before conv: torchaudio's key order
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size,
                              stride=stride, bias=bias)

    def forward(self, x: Tensor, length: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Maps (batch, in_channels, in_frame) to (batch, out_channels, out_frame); ``length``
        (batch,) of valid input frames becomes the number of valid output frames,
        ``floor((length - kernel_size) / stride) + 1``, at least 0."""
        x = self.conv(x)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        x = F.gelu(x)
        if length is not None:
            length = ember.div(length - self.kernel_size, self.stride, rounding_mode="floor") + 1
            length = ember.clamp(length, min=0)  # an input shorter than the kernel: 0 frames
        return x, length


class FeatureExtractor(nn.Module):
    """The convolutional feature encoder: raw audio to a sequence of feature frames.

    Args:
        conv_layers (nn.ModuleList): the ``ConvLayerBlock`` stack.
    """

    def __init__(self, conv_layers: nn.ModuleList) -> None:
        super().__init__()
        self.conv_layers = conv_layers

    def forward(self, x: Tensor, length: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Maps audio (batch, time) to features (batch, frame, feature); ``length`` (batch,)
        of valid samples becomes the number of valid frames (None stays None)."""
        if x.ndim != 2:
            raise ValueError(
                f"Expected the input Tensor to be 2D (batch, time). Found: {list(x.shape)}")
        x = x.unsqueeze(1)  # (batch, 1, time)
        for layer in self.conv_layers:
            x, length = layer(x, length)  # (batch, feature, frame)
        return x.transpose(1, 2), length  # (batch, frame, feature)


class FeatureProjection(nn.Module):
    """LayerNorm, Linear and Dropout taking extractor features to the encoder's width.

    Args:
        in_features (int): extractor output channels.
        out_features (int): encoder embedding dimension.
        dropout (float): dropout probability after the projection.
    """

    def __init__(self, in_features: int, out_features: int, dropout: float) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(in_features)
        self.projection = nn.Linear(in_features, out_features)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """(batch, frame, in_features) -> (batch, frame, out_features)."""
        return self.dropout(self.projection(self.layer_norm(x)))


class ConvolutionalPositionalEmbedding(nn.Module):
    """Relative positional information from a grouped convolution over time.

    The convolution's weight is weight-normed over its kernel axis (``dim=2``), as a
    parametrization: its ``state_dict`` holds ``conv.parametrizations.weight.original0``
    (the norms g) and ``original1`` (the direction v); legacy ``conv.weight_g`` /
    ``conv.weight_v`` keys are converted on load. An even kernel makes one frame too
    many, which is cut from the end.

    Args:
        embed_dim (int): feature dimension.
        kernel_size (int): the number of frames the convolution covers.
        groups (int): convolution groups over the feature dimension.
    """

    def __init__(self, embed_dim: int, kernel_size: int, groups: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.kernel_size = kernel_size
        conv = nn.Conv1d(embed_dim, embed_dim, kernel_size=kernel_size,
                         padding=kernel_size // 2, groups=groups)
        self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        self.num_remove: int = 1 if kernel_size % 2 == 0 else 0

    def forward(self, x: Tensor) -> Tensor:
        """(batch, frame, feature) -> (batch, frame, feature)."""
        x = self.conv(x.transpose(-2, -1))  # (batch, feature, frame [+1])
        if self.num_remove > 0:
            x = x[..., :-self.num_remove]
        return F.gelu(x).transpose(-2, -1)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (all with bias).

    Args:
        embed_dim (int): model dimension.
        num_heads (int): number of heads; must divide ``embed_dim``.
        dropout (float, optional): dropout on the attention weights (default: 0.0).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        head_dim = embed_dim // num_heads
        if head_dim * num_heads != embed_dim:
            raise ValueError(
                f"`embed_dim ({embed_dim})` is not divisible by `num_heads ({num_heads})`")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.head_dim = head_dim
        self.scaling = head_dim ** -0.5
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=True)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=True)

    def forward(self, x: Tensor, attention_mask: Tensor | None = None,
                position_bias: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> tuple[Tensor, None]:
        """Attends over (batch, length, embed_dim) with an optional additive
        ``attention_mask`` of shape (batch, 1, length, length). ``position_bias`` and
        ``key_padding_mask`` are accepted and unused (torchaudio keeps them for WavLM).
        Returns ``(output (batch, length, embed_dim), None)``."""
        if x.ndim != 3 or x.shape[2] != self.embed_dim:
            raise ValueError(f"The expected input shape is (batch, sequence, "
                             f"embed_dim=={self.embed_dim}). Found {list(x.shape)}.")
        batch, length, _ = x.shape
        if attention_mask is not None:
            expected = (batch, 1, length, length)
            if tuple(attention_mask.shape) != expected:
                raise ValueError(f"The expected attention mask shape is {expected}. "
                                 f"Found {tuple(attention_mask.shape)}.")
        shape = (batch, length, self.num_heads, self.head_dim)
        q = self.q_proj(x).view(*shape).transpose(2, 1)  # (B, nh, L, hd)
        k = self.k_proj(x).view(*shape).transpose(2, 1)  # (B, nh, L, hd)
        v = self.v_proj(x).view(*shape).transpose(2, 1)  # (B, nh, L, hd)
        dropout = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask,
                                             dropout_p=dropout, is_causal=False)
        out = out.transpose(1, 2).reshape(batch, length, self.embed_dim)  # (B, L, C)
        return self.out_proj(out), None


class FeedForward(nn.Module):
    """Linear, GELU, Dropout, Linear, Dropout.

    Args:
        io_features (int): input and output width.
        intermediate_features (int): hidden width.
        intermediate_dropout (float): dropout after the activation.
        output_dropout (float): dropout after the output projection.
    """

    def __init__(self, io_features: int, intermediate_features: int,
                 intermediate_dropout: float, output_dropout: float) -> None:
        super().__init__()
        self.intermediate_dense = nn.Linear(io_features, intermediate_features)
        self.intermediate_dropout = nn.Dropout(intermediate_dropout)
        self.output_dense = nn.Linear(intermediate_features, io_features)
        self.output_dropout = nn.Dropout(output_dropout)

    def forward(self, x: Tensor) -> Tensor:
        """(batch, length, io_features) -> (batch, length, io_features)."""
        x = self.intermediate_dropout(F.gelu(self.intermediate_dense(x)))
        return self.output_dropout(self.output_dense(x))


class EncoderLayer(nn.Module):
    """One Transformer layer: self-attention and feed-forward with residuals.

    Pre-norm (``layer_norm_first``): ``x + attn(ln(x))``, then ``x + ff(final_ln(x))``.
    Post-norm: ``ln(x + attn(x))``, then ``final_ln(x + ff(x))``.

    Args:
        attention (nn.Module): the self-attention (with an ``embed_dim`` attribute).
        dropout (float): dropout on the attention output.
        layer_norm_first (bool): pre-norm when True, post-norm when False.
        feed_forward (nn.Module): the feed-forward block.
    """

    def __init__(self, attention: nn.Module, dropout: float, layer_norm_first: bool,
                 feed_forward: nn.Module) -> None:
        super().__init__()
        self.attention = attention
        self.dropout = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(attention.embed_dim)
        self.layer_norm_first = layer_norm_first
        self.feed_forward = feed_forward
        self.final_layer_norm = nn.LayerNorm(attention.embed_dim)

    def forward(self, x: Tensor, attention_mask: Tensor | None = None,
                position_bias: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(batch, length, embed_dim) -> ``(same shape, position_bias)``; the mask is
        additive, (batch, 1, length, length)."""
        residual = x
        if self.layer_norm_first:
            x = self.layer_norm(x)
        x, position_bias = self.attention(x, attention_mask=attention_mask,
                                          position_bias=position_bias,
                                          key_padding_mask=key_padding_mask)
        x = residual + self.dropout(x)
        if self.layer_norm_first:
            x = x + self.feed_forward(self.final_layer_norm(x))
        else:
            x = self.layer_norm(x)
            x = self.final_layer_norm(x + self.feed_forward(x))
        return x, position_bias


class Transformer(nn.Module):
    """Positional embedding plus the stack of ``EncoderLayer``.

    Note the inversion, as in torchaudio: here ``layer_norm_first=True`` means the
    Transformer's own ``layer_norm`` is applied *before* the layers, which is the case
    for post-norm layers (base models); pre-norm models normalize after the last layer.

    Args:
        pos_conv_embed (nn.Module): the convolutional positional embedding.
        dropout (float): dropout after the positional embedding.
        layers (nn.ModuleList): the encoder layers.
        layer_norm_first (bool): where ``layer_norm`` goes (see above).
        layer_drop (float): probability of skipping each layer while training.
    """

    def __init__(self, pos_conv_embed: nn.Module, dropout: float, layers: nn.ModuleList,
                 layer_norm_first: bool, layer_drop: float) -> None:
        super().__init__()
        self.pos_conv_embed = pos_conv_embed
        self.layer_norm = nn.LayerNorm(pos_conv_embed.embed_dim)
        self.layer_norm_first = layer_norm_first
        self.layer_drop = layer_drop
        self.dropout = nn.Dropout(dropout)
        self.layers = layers

    def _preprocess(self, x: Tensor) -> Tensor:
        x = x + self.pos_conv_embed(x)
        if self.layer_norm_first:
            x = self.layer_norm(x)
        return self.dropout(x)

    def forward(self, x: Tensor, attention_mask: Tensor | None = None,
                position_bias: Tensor | None = None) -> Tensor:
        """(batch, frame, embed_dim) -> (batch, frame, embed_dim)."""
        x = self._preprocess(x)
        for layer in self.layers:
            if self.training and self.layer_drop > 0 and \
                    ember.rand(1).item() <= self.layer_drop:
                continue  # layer drop
            x, position_bias = layer(x, attention_mask, position_bias=position_bias)
        if not self.layer_norm_first:
            x = self.layer_norm(x)
        return x

    def get_intermediate_outputs(self, x: Tensor, attention_mask: Tensor | None = None,
                                 num_layers: int | None = None) -> list[Tensor]:
        """The outputs of the first ``num_layers`` layers (all when None), each
        (batch, frame, embed_dim); no layer drop and no final ``layer_norm``."""
        if num_layers is not None and not 0 < num_layers <= len(self.layers):
            raise ValueError(f"`num_layers` must be between [1, {len(self.layers)}]")
        outputs: list[Tensor] = []
        position_bias = None
        x = self._preprocess(x)
        for layer in self.layers:
            x, position_bias = layer(x, attention_mask, position_bias=position_bias)
            outputs.append(x)
            if num_layers is not None and len(outputs) >= num_layers:
                break
        return outputs


class Encoder(nn.Module):
    """Feature projection plus Transformer; turns valid lengths into an attention mask.

    Args:
        feature_projection (nn.Module): the ``FeatureProjection``.
        transformer (nn.Module): the ``Transformer``.
    """

    def __init__(self, feature_projection: nn.Module, transformer: nn.Module) -> None:
        super().__init__()
        self.feature_projection = feature_projection
        self.transformer = transformer

    def _preprocess(self, features: Tensor,
                    lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Projects the features, zeroes padded frames and builds the additive
        (batch, 1, frame, frame) mask (-10000 on padded keys), or None without lengths."""
        x = self.feature_projection(features)  # (batch, frame, embed_dim)
        if lengths is None:
            return x, None
        batch, max_len, _ = x.shape
        frames = ember.arange(max_len, device=lengths.device).expand(batch, max_len)
        padded = frames >= lengths[:, None]  # (batch, frame)
        x = x.masked_fill(padded[:, :, None], 0.0)
        mask = padded[:, None, None, :].to(dtype=features.dtype) * _MASK_VALUE
        return x, mask.expand(batch, 1, max_len, max_len)

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(batch, frame, in_features) -> (batch, frame, embed_dim)."""
        x, mask = self._preprocess(features, lengths)
        return self.transformer(x, attention_mask=mask)

    def extract_features(self, features: Tensor, lengths: Tensor | None = None,
                         num_layers: int | None = None) -> list[Tensor]:
        """Per-layer outputs of the Transformer (see ``get_intermediate_outputs``)."""
        x, mask = self._preprocess(features, lengths)
        return self.transformer.get_intermediate_outputs(x, attention_mask=mask,
                                                         num_layers=num_layers)


def _get_feature_extractor(norm_mode: str, shapes: list[tuple[int, int, int]],
                           bias: bool) -> FeatureExtractor:
    """The feature extractor for ``shapes`` = [(out_channels, kernel, stride), ...].
    ``norm_mode``: ``"group_norm"`` (one GroupNorm with a group per channel, on the first
    block) or ``"layer_norm"`` (a channel LayerNorm on every block)."""
    if norm_mode not in ("group_norm", "layer_norm"):
        raise ValueError(f"Invalid norm mode {norm_mode!r}: expected 'group_norm' or "
                         f"'layer_norm'")
    blocks = []
    in_channels = 1
    for i, (out_channels, kernel_size, stride) in enumerate(shapes):
        norm = None
        if norm_mode == "group_norm" and i == 0:
            norm = nn.GroupNorm(num_groups=out_channels, num_channels=out_channels, affine=True)
        elif norm_mode == "layer_norm":
            norm = LayerNorm(normalized_shape=out_channels, elementwise_affine=True)
        blocks.append(ConvLayerBlock(in_channels, out_channels, kernel_size, stride, bias,
                                     norm))
        in_channels = out_channels
    return FeatureExtractor(nn.ModuleList(blocks))


def _get_encoder(in_features: int, embed_dim: int, dropout_input: float,
                 pos_conv_kernel: int, pos_conv_groups: int, num_layers: int, num_heads: int,
                 attention_dropout: float, ff_interm_features: int, ff_interm_dropout: float,
                 dropout: float, layer_norm_first: bool, layer_drop: float) -> Encoder:
    """The encoder; the arguments are ``wav2vec2_model``'s ``encoder_*`` ones (fairseq's
    ``encoder_embed_dim``, ``dropout_input``, ``conv_pos``, ``conv_pos_groups``,
    ``encoder_layers``, ``encoder_attention_heads``, ``attention_dropout``,
    ``encoder_ffn_embed_dim``, ``activation_dropout``, ``dropout``, ``layer_norm_first``,
    ``layerdrop``)."""
    projection = FeatureProjection(in_features, embed_dim, dropout_input)
    pos_conv = ConvolutionalPositionalEmbedding(embed_dim, pos_conv_kernel, pos_conv_groups)
    layers = nn.ModuleList()
    for _ in range(num_layers):
        attention = SelfAttention(embed_dim, num_heads, dropout=attention_dropout)
        feed_forward = FeedForward(embed_dim, ff_interm_features, ff_interm_dropout, dropout)
        layers.append(EncoderLayer(attention, dropout, layer_norm_first, feed_forward))
    transformer = Transformer(pos_conv, dropout, layers, layer_norm_first=not layer_norm_first,
                              layer_drop=layer_drop)
    return Encoder(projection, transformer)
