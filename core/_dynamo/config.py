"""``ember._dynamo.config``: dynamo's settings, kept as plain attributes with no effect
(ember compiles nothing). Unknown names can be set too, so scripts that tune dynamo run."""

cache_size_limit = 8
accumulated_cache_size_limit = 256
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
suppress_errors = False
verbose = False
optimize_ddp = True
automatic_dynamic_shapes = True
assume_static_by_default = True
