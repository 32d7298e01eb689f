"""``ember._inductor.config``: inductor's settings, stored with no effect (ember compiles
nothing), so programs that tune them (``coordinate_descent_tuning``,
``triton.unique_kernel_names``, ``fx_graph_cache``, ...) run unchanged. Unknown names can
be set too; ``patch`` changes settings for a block or a decorated function."""

from __future__ import annotations

import types

from .._dynamo.config import _make_patch

debug = False
max_autotune = False
max_autotune_gemm = False
max_autotune_pointwise = False
coordinate_descent_tuning = False
coordinate_descent_check_all_directions = False
coordinate_descent_search_radius = 1
epilogue_fusion = True
aggressive_fusion = False
conv_1x1_as_mm = False
force_fuse_int_mm_with_mul = False
use_mixed_mm = True
fx_graph_cache = True
fx_graph_remote_cache = None
freezing = False
cpp_wrapper = False
compile_threads = 1
benchmark_kernel = False
shape_padding = True
layout_optimization = True
split_reductions = True
fallback_random = False
implicit_fallbacks = True
deterministic = False
cpu_backend = "cpp"
cuda_backend = "triton"

# the nested groups (``config.triton.cudagraphs = True``): attributes can be set freely
triton = types.SimpleNamespace(cudagraphs=False, cudagraph_trees=True,
                               unique_kernel_names=True, descriptive_names="original_aten",
                               autotune_pointwise=True, autotune_cublasLt=True,
                               persistent_reductions=True, multi_kernel=0,
                               use_block_ptr=False)
cpp = types.SimpleNamespace(threads=-1, simdlen=None, enable_kernel_profile=False,
                            weight_prepack=True, dynamic_threads=False,
                            enable_concat_linear=False)
trace = types.SimpleNamespace(enabled=False, debug_dir=None)
aot_inductor = types.SimpleNamespace(output_path="", debug_compile=False)

patch, get_config_copy, load_config = _make_patch(__name__)
save_config = get_config_copy
