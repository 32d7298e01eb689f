"""``ember._inductor``: the ``torch._inductor`` names programs touch to tune the compiler
(``torch._inductor.config``). ember has no compiler, so the settings are stored with no
effect."""

from . import config

__all__ = ["config"]
