"""``ember.backends`` flags against PyTorch's: the names programs set exist, context
managers set and restore them, and the TF32 spellings (``allow_tf32`` and the newer
``fp32_precision``) agree."""

import warnings

import ember
import torch


def test_cudnn_flags_context_sets_and_restores():
    for lib in (torch, ember):
        c = lib.backends.cudnn
        before = (c.enabled, c.benchmark, c.deterministic, c.allow_tf32)
        with c.flags(enabled=False, benchmark=True, deterministic=True, allow_tf32=False):
            assert (c.enabled, c.benchmark, c.deterministic, c.allow_tf32) == (
                False, True, True, False)
        assert (c.enabled, c.benchmark, c.deterministic, c.allow_tf32) == before
    assert ember.backends.cudnn.benchmark_limit == torch.backends.cudnn.benchmark_limit


def test_fp32_precision_names_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in ("fp32_precision", "cudnn.conv.fp32_precision",
                     "cudnn.rnn.fp32_precision", "mkldnn.matmul.fp32_precision",
                     "mkldnn.conv.fp32_precision", "mkldnn.rnn.fp32_precision"):
            vals = []
            for lib in (torch, ember):
                obj = lib.backends
                for part in path.split("."):
                    obj = getattr(obj, part)
                vals.append(obj)
            assert vals[0] == vals[1], path
        tm, em = torch.backends.cuda.matmul, ember.backends.cuda.matmul
        saved = tm.allow_tf32, em.allow_tf32
        try:
            for flag in (True, False):
                tm.allow_tf32 = em.allow_tf32 = flag
                assert em.fp32_precision == tm.fp32_precision
            em.fp32_precision = "tf32"
            assert em.allow_tf32 is True
        finally:
            tm.allow_tf32, em.allow_tf32 = saved
