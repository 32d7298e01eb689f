"""``ember.nn.functional``: the functional forms of the ``nn`` layers, as
``torch.nn.functional`` (``import ember.nn.functional as F``)."""

from __future__ import annotations

from ._utils import _list_with_default, _pair, _quadruple, _single, _triple
from .activation import *
from .attention import multi_head_attention_forward
from .conv import *
from .dropout import *
from .loss import *
from .misc import *
from .normalization import *
from .pooling import *
from .sparse import *
from .vision import *
