"""Wav2Letter (``torchaudio.models.Wav2Letter``): a fully convolutional acoustic model
that maps audio to per-frame log-probabilities over characters (for a CTC loss)."""

from __future__ import annotations

from ember import Tensor, nn

__all__ = ["Wav2Letter"]


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
               padding: int = 0) -> list[nn.Module]:
    return [nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
            nn.ReLU(inplace=True)]


class Wav2Letter(nn.Module):
    r"""Wav2Letter model architecture from *Wav2Letter: an End-to-End ConvNet-based Speech
    Recognition System* (Collobert et al., 2016).

    Args:
        num_classes (int, optional): Number of classes to be classified. (Default: ``40``)
        input_type (str, optional): Wav2Letter can use as input: ``waveform``,
            ``power_spectrum`` or ``mfcc`` (Default: ``waveform``).
        num_features (int, optional): Number of input features that the network will
            receive (Default: ``1``).

    With ``input_type="waveform"`` a first convolution (kernel 250, stride 160: 10 ms hops
    at 16 kHz) turns the raw audio into 250 features; ``acoustic_model`` is then
    ``Sequential(waveform_model, acoustic_model)``, as in torchaudio, so the
    ``state_dict`` keys are ``acoustic_model.0.0.*`` and ``acoustic_model.1.<i>.*``.
    Otherwise ``acoustic_model`` is the acoustic stack alone.
    """

    def __init__(self, num_classes: int = 40, input_type: str = "waveform",
                 num_features: int = 1) -> None:
        super().__init__()
        if input_type not in ("waveform", "power_spectrum", "mfcc"):
            raise ValueError(f"Wav2Letter: input_type must be 'waveform', 'power_spectrum' "
                             f"or 'mfcc', got {input_type!r}")
        acoustic_in = 250 if input_type == "waveform" else num_features
        layers = _conv_relu(acoustic_in, 250, 48, stride=2, padding=23)
        for _ in range(7):
            layers += _conv_relu(250, 250, 7, padding=3)
        layers += _conv_relu(250, 2000, 32, padding=16)
        layers += _conv_relu(2000, 2000, 1)
        layers += _conv_relu(2000, num_classes, 1)
        acoustic_model = nn.Sequential(*layers)
        if input_type == "waveform":
            waveform_model = nn.Sequential(*_conv_relu(num_features, 250, 250, stride=160,
                                                       padding=45))
            self.acoustic_model = nn.Sequential(waveform_model, acoustic_model)
        else:
            self.acoustic_model = acoustic_model

    def forward(self, x: Tensor) -> Tensor:
        r"""
        Args:
            x (Tensor): Tensor of dimension (batch_size, num_features, input_length).

        Returns:
            Tensor: log-probabilities of dimension (batch_size, number_of_classes,
            output_length).
        """
        x = self.acoustic_model(x)
        return nn.functional.log_softmax(x, dim=1)
