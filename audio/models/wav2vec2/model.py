"""wav2vec 2.0 / HuBERT acoustic model (``torchaudio.models.Wav2Vec2Model``), its generic
factory ``wav2vec2_model`` and the published architectures (``wav2vec2_base``,
``wav2vec2_large``, ``wav2vec2_large_lv60k``, ``hubert_base``, ``hubert_large``,
``hubert_xlarge``) with torchaudio's default dropouts."""

from __future__ import annotations

from ember import Tensor, nn

from . import components

__all__ = ["Wav2Vec2Model", "wav2vec2_model", "wav2vec2_base", "wav2vec2_large",
           "wav2vec2_large_lv60k", "hubert_base", "hubert_large", "hubert_xlarge"]

# fairseq's conv_feature_layers: [(out_channels, kernel_size, stride), ...]
_DEFAULT_CONV_LAYERS = [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2


def _check_lengths(waveforms: Tensor, lengths: Tensor | None) -> None:
    if lengths is None:
        return
    if lengths.ndim != 1 or waveforms.ndim < 1 or lengths.shape[0] != waveforms.shape[0]:
        raise ValueError(f"Expected `lengths` to be 1D (batch,) matching waveforms "
                         f"{list(waveforms.shape)}. Found: {list(lengths.shape)}")


class Wav2Vec2Model(nn.Module):
    """Acoustic model used in *wav2vec 2.0* (Baevski et al., 2020) and *HuBERT* (Hsu et
    al., 2021): a convolutional feature extractor, a Transformer encoder and an optional
    auxiliary linear head (the CTC classifier of fine-tuned models).

    Build it with ``wav2vec2_model`` or one of the presets, or convert a Hugging Face
    model with ``ember.audio.models.wav2vec2.utils.import_huggingface_model``.

    Args:
        feature_extractor (nn.Module): raw audio to feature frames.
        encoder (nn.Module): feature frames to contextual features.
        aux (nn.Module or None, optional): applied to the encoder output in ``forward``.

    Departure from torchaudio: a ``lengths`` that is not 1D with one entry per waveform
    raises ``ValueError`` at once.
    """

    def __init__(self, feature_extractor: nn.Module, encoder: nn.Module,
                 aux: nn.Module | None = None) -> None:
        super().__init__()
        self.feature_extractor = feature_extractor
        self.encoder = encoder
        self.aux = aux

    def extract_features(self, waveforms: Tensor, lengths: Tensor | None = None,
                         num_layers: int | None = None) -> tuple[list[Tensor], Tensor | None]:
        """The outputs of the Transformer's layers.

        Args:
            waveforms (Tensor): audio of shape `(batch, frames)`.
            lengths (Tensor or None, optional): valid length of each audio in the batch,
                shape `(batch,)`; padded frames are masked out of the attention. None: all
                of every waveform is valid.
            num_layers (int or None, optional): stop after this many layers (all if None).

        Returns:
            (List[Tensor], Optional[Tensor]): the features of each requested layer, each
            `(batch, time frame, feature dimension)`, and, when ``lengths`` was given, the
            valid number of frames of each item `(batch,)`.
        """
        _check_lengths(waveforms, lengths)
        x, lengths = self.feature_extractor(waveforms, lengths)
        return self.encoder.extract_features(x, lengths, num_layers), lengths

    def forward(self, waveforms: Tensor,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """The sequence of features, or of label logits when ``aux`` is set.

        Args:
            waveforms (Tensor): audio of shape `(batch, frames)`.
            lengths (Tensor or None, optional): valid length of each audio in the batch,
                shape `(batch,)` (default: None, all valid).

        Returns:
            (Tensor, Optional[Tensor]): `(batch, frames, num labels or embed dim)`, and the
            valid number of output frames `(batch,)` when ``lengths`` was given.
        """
        _check_lengths(waveforms, lengths)
        x, lengths = self.feature_extractor(waveforms, lengths)
        x = self.encoder(x, lengths)
        if self.aux is not None:
            x = self.aux(x)
        return x, lengths


def wav2vec2_model(extractor_mode: str,
                   extractor_conv_layer_config: list[tuple[int, int, int]] | None,
                   extractor_conv_bias: bool, encoder_embed_dim: int,
                   encoder_projection_dropout: float, encoder_pos_conv_kernel: int,
                   encoder_pos_conv_groups: int, encoder_num_layers: int,
                   encoder_num_heads: int, encoder_attention_dropout: float,
                   encoder_ff_interm_features: int, encoder_ff_interm_dropout: float,
                   encoder_dropout: float, encoder_layer_norm_first: bool,
                   encoder_layer_drop: float, aux_num_out: int | None) -> Wav2Vec2Model:
    """Builds a custom ``Wav2Vec2Model``. The names in brackets are fairseq's options.

    Args:
        extractor_mode (str): ``"group_norm"`` (one GroupNorm in the first conv block) or
            ``"layer_norm"`` (a LayerNorm in every block) [``extractor_mode``].
        extractor_conv_layer_config (list of (int, int, int) or None): the conv blocks as
            ``(output_channel, kernel_size, stride)``; None gives
            ``[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2``
            [``conv_feature_layers``].
        extractor_conv_bias (bool): convolutions with bias [``conv_bias``].
        encoder_embed_dim (int): encoder width [``encoder_embed_dim``].
        encoder_projection_dropout (float): dropout after the feature projection
            [``dropout_input``].
        encoder_pos_conv_kernel (int): kernel of the positional convolution [``conv_pos``].
        encoder_pos_conv_groups (int): groups of the positional convolution
            [``conv_pos_groups``].
        encoder_num_layers (int): Transformer layers [``encoder_layers``].
        encoder_num_heads (int): attention heads [``encoder_attention_heads``].
        encoder_attention_dropout (float): dropout on attention weights
            [``attention_dropout``].
        encoder_ff_interm_features (int): feed-forward hidden width
            [``encoder_ffn_embed_dim``].
        encoder_ff_interm_dropout (float): dropout inside the feed-forward block
            [``activation_dropout``].
        encoder_dropout (float): dropout at the end of the attention and feed-forward
            blocks [``dropout``].
        encoder_layer_norm_first (bool): pre-norm layers with the final LayerNorm after the
            stack when True; post-norm layers with the LayerNorm before the stack when
            False [``layer_norm_first``].
        encoder_layer_drop (float): probability of dropping each layer while training
            [``layerdrop``].
        aux_num_out (int or None): when given, a Linear(encoder_embed_dim, aux_num_out)
            head on the encoder output (for fine-tuning).

    Returns:
        Wav2Vec2Model: the model.
    """
    if extractor_conv_layer_config is None:
        extractor_conv_layer_config = list(_DEFAULT_CONV_LAYERS)
    feature_extractor = components._get_feature_extractor(
        extractor_mode, extractor_conv_layer_config, extractor_conv_bias)
    encoder = components._get_encoder(
        in_features=extractor_conv_layer_config[-1][0], embed_dim=encoder_embed_dim,
        dropout_input=encoder_projection_dropout, pos_conv_kernel=encoder_pos_conv_kernel,
        pos_conv_groups=encoder_pos_conv_groups, num_layers=encoder_num_layers,
        num_heads=encoder_num_heads, attention_dropout=encoder_attention_dropout,
        ff_interm_features=encoder_ff_interm_features,
        ff_interm_dropout=encoder_ff_interm_dropout, dropout=encoder_dropout,
        layer_norm_first=encoder_layer_norm_first, layer_drop=encoder_layer_drop)
    aux = None
    if aux_num_out is not None:
        aux = nn.Linear(in_features=encoder_embed_dim, out_features=aux_num_out)
    return Wav2Vec2Model(feature_extractor, encoder, aux)


def _preset(extractor_mode: str, conv_bias: bool, embed_dim: int, num_layers: int,
            num_heads: int, ff_dim: int, layer_norm_first: bool, projection_dropout: float,
            attention_dropout: float, ff_interm_dropout: float, dropout: float,
            layer_drop: float, aux_num_out: int | None) -> Wav2Vec2Model:
    return wav2vec2_model(
        extractor_mode=extractor_mode, extractor_conv_layer_config=None,
        extractor_conv_bias=conv_bias, encoder_embed_dim=embed_dim,
        encoder_projection_dropout=projection_dropout, encoder_pos_conv_kernel=128,
        encoder_pos_conv_groups=16, encoder_num_layers=num_layers, encoder_num_heads=num_heads,
        encoder_attention_dropout=attention_dropout, encoder_ff_interm_features=ff_dim,
        encoder_ff_interm_dropout=ff_interm_dropout, encoder_dropout=dropout,
        encoder_layer_norm_first=layer_norm_first, encoder_layer_drop=layer_drop,
        aux_num_out=aux_num_out)


def wav2vec2_base(encoder_projection_dropout: float = 0.1,
                  encoder_attention_dropout: float = 0.1,
                  encoder_ff_interm_dropout: float = 0.1, encoder_dropout: float = 0.1,
                  encoder_layer_drop: float = 0.1,
                  aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "base" wav2vec 2.0 architecture: group-norm extractor without conv bias, 768
    wide, 12 post-norm layers of 12 heads, feed-forward 3072. The arguments are
    ``wav2vec2_model``'s."""
    return _preset("group_norm", False, 768, 12, 12, 3072, False, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)


def wav2vec2_large(encoder_projection_dropout: float = 0.1,
                   encoder_attention_dropout: float = 0.1,
                   encoder_ff_interm_dropout: float = 0.1, encoder_dropout: float = 0.1,
                   encoder_layer_drop: float = 0.1,
                   aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "large" wav2vec 2.0 architecture: group-norm extractor without conv bias, 1024
    wide, 24 post-norm layers of 16 heads, feed-forward 4096. The arguments are
    ``wav2vec2_model``'s."""
    return _preset("group_norm", False, 1024, 24, 16, 4096, False, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)


def wav2vec2_large_lv60k(encoder_projection_dropout: float = 0.1,
                         encoder_attention_dropout: float = 0.0,
                         encoder_ff_interm_dropout: float = 0.1, encoder_dropout: float = 0.0,
                         encoder_layer_drop: float = 0.1,
                         aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "large lv-60k" wav2vec 2.0 architecture: layer-norm extractor with conv bias,
    1024 wide, 24 pre-norm layers of 16 heads, feed-forward 4096. The arguments are
    ``wav2vec2_model``'s."""
    return _preset("layer_norm", True, 1024, 24, 16, 4096, True, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)


def hubert_base(encoder_projection_dropout: float = 0.1,
                encoder_attention_dropout: float = 0.1,
                encoder_ff_interm_dropout: float = 0.0, encoder_dropout: float = 0.1,
                encoder_layer_drop: float = 0.05,
                aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "base" HuBERT architecture (that of ``wav2vec2_base``, with HuBERT's dropouts).
    The arguments are ``wav2vec2_model``'s."""
    return _preset("group_norm", False, 768, 12, 12, 3072, False, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)


def hubert_large(encoder_projection_dropout: float = 0.0,
                 encoder_attention_dropout: float = 0.0,
                 encoder_ff_interm_dropout: float = 0.0, encoder_dropout: float = 0.0,
                 encoder_layer_drop: float = 0.0,
                 aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "large" HuBERT architecture: layer-norm extractor without conv bias, 1024 wide,
    24 pre-norm layers of 16 heads, feed-forward 4096. The arguments are
    ``wav2vec2_model``'s."""
    return _preset("layer_norm", False, 1024, 24, 16, 4096, True, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)


def hubert_xlarge(encoder_projection_dropout: float = 0.0,
                  encoder_attention_dropout: float = 0.0,
                  encoder_ff_interm_dropout: float = 0.0, encoder_dropout: float = 0.0,
                  encoder_layer_drop: float = 0.0,
                  aux_num_out: int | None = None) -> Wav2Vec2Model:
    """The "extra large" HuBERT architecture: layer-norm extractor without conv bias, 1280
    wide, 48 pre-norm layers of 16 heads, feed-forward 5120. The arguments are
    ``wav2vec2_model``'s."""
    return _preset("layer_norm", False, 1280, 48, 16, 5120, True, encoder_projection_dropout,
                   encoder_attention_dropout, encoder_ff_interm_dropout, encoder_dropout,
                   encoder_layer_drop, aux_num_out)
