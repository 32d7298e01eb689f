"""``ember.distributed.device_mesh``: ``DeviceMesh`` and ``init_device_mesh``, declared
only (ember has no device meshes: using them raises NotImplementedError)."""

from __future__ import annotations

from ._unsupported import Unsupported, unsupported_function

__all__ = ["DeviceMesh", "init_device_mesh"]


class DeviceMesh(Unsupported):
    """An n-dimensional grid of ranks (not supported by ember: constructing one raises)."""

    _what = "ember.distributed.device_mesh.DeviceMesh"


init_device_mesh = unsupported_function("ember.distributed.device_mesh.init_device_mesh",
                                        "Builds a DeviceMesh over all ranks")
