"""``SummaryWriter``: log scalars, histograms, images, text, audio, hparams, PR curves and
embeddings for TensorBoard, as ``torch.utils.tensorboard.SummaryWriter`` does.

Event files are written directly (TFRecord framing, hand-encoded protocol buffers), so the
``tensorboard`` package is only needed to *view* the logs, not to write them.
"""

from __future__ import annotations

import math
import os
import socket
import time
from datetime import datetime

import numpy as np

from . import _summary as S
from ._event_file import EventFileWriter, event

_SESSION_START = 1  # tensorboard.SessionLog.START


def _step(global_step, method):
    if global_step is None:
        return None
    return int(S.to_float(global_step, method, "global_step"))


class SummaryWriter:
    """Writes entries to event files in ``log_dir`` for TensorBoard to read.

    Args:
        log_dir: where to write; default ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: when resuming a crashed run, events with a step at or above this one
            already on disk are hidden by TensorBoard (a ``SessionLog.START`` is written).
        max_queue: how many events are queued before they are written out.
        flush_secs: events are written out when this many seconds passed since the last
            write, checked whenever something is added (there is no background thread).
        filename_suffix: appended to the event file's name.
    """

    def __init__(
        self,
        log_dir=None,
        comment="",
        purge_step=None,
        max_queue=10,
        flush_secs=120,
        filename_suffix="",
    ):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = None
        self.all_writers: dict[str, EventFileWriter] = {}
        self._get_file_writer()

    # ------------------------------------------------------------------ plumbing
    def _get_file_writer(self) -> EventFileWriter:
        """The writer of this log_dir's event file (reopened after :meth:`close`)."""
        if self.file_writer is None:
            self.file_writer = EventFileWriter(
                self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix
            )
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                step = int(self.purge_step)
                self.file_writer.add_event(event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(event(step=step, session_log_status=_SESSION_START))
                self.purge_step = None
        return self.file_writer

    def _add(self, summary: bytes, global_step, walltime, method: str, writer=None) -> None:
        step = _step(global_step, method)
        wall = None if walltime is None else S.to_float(walltime, method, "walltime")
        (writer or self._get_file_writer()).add_event(event(summary, step, wall))

    def get_logdir(self) -> str:
        """The directory event files are written to."""
        return self.log_dir

    # ------------------------------------------------------------------ scalars
    def add_scalar(
        self,
        tag,
        scalar_value,
        global_step=None,
        walltime=None,
        new_style=False,
        double_precision=False,
    ):
        """Log one number.

        ``new_style=True`` stores it as a tensor (``double_precision`` keeps float64),
        which TensorBoard loads faster; the default stores a float32 ``simple_value``.
        """
        val = S.to_float(scalar_value, "add_scalar", "scalar_value")
        self._add(
            S.scalar(str(tag), val, new_style, double_precision),
            global_step,
            walltime,
            "add_scalar",
        )

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers under one chart: each key goes to its own run in the
        sub-directory ``<log_dir>/<main_tag>_<key>`` (``/`` in ``main_tag`` becomes ``_``),
        all with the tag ``main_tag``."""
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(
                "SummaryWriter.add_scalars: tag_scalar_dict must be a dict of tag -> number, "
                f"got {type(tag_scalar_dict).__name__}"
            )
        wall = time.time() if walltime is None else walltime
        self._get_file_writer()
        for key, val in tag_scalar_dict.items():
            num = S.to_float(val, "add_scalars", f"tag_scalar_dict[{key!r}]")
            sub_dir = os.path.join(self.log_dir, str(main_tag).replace("/", "_") + "_" + key)
            writer = self.all_writers.get(sub_dir)
            if writer is None:
                writer = EventFileWriter(
                    sub_dir, self.max_queue, self.flush_secs, self.filename_suffix
                )
                self.all_writers[sub_dir] = writer
            self._add(S.scalar(str(main_tag), num), global_step, wall, "add_scalars", writer)

    # ------------------------------------------------------------------ histograms
    def add_histogram(
        self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ):
        """Log a histogram of ``values``.

        ``bins`` is ``'tensorflow'`` (TensorFlow's exponential buckets) or anything
        ``numpy.histogram`` takes (an int, a list of edges, ``'auto'``, ``'fd'``...).
        """
        arr = S.to_numpy(values, "add_histogram", "values")
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"SummaryWriter.add_histogram: values has unsupported dtype {arr.dtype}"
            )
        self._add(
            S.histogram(str(tag), arr, bins, max_bins), global_step, walltime, "add_histogram"
        )

    def add_histogram_raw(
        self,
        tag,
        min,
        max,
        num,
        sum,
        sum_squares,
        bucket_limits,
        bucket_counts,
        global_step=None,
        walltime=None,
    ):
        """Log a histogram given by its statistics and buckets (upper limits and counts)."""
        limits = np.asarray(
            S.to_numpy(bucket_limits, "add_histogram_raw", "bucket_limits"), np.float64
        ).reshape(-1)
        counts = np.asarray(
            S.to_numpy(bucket_counts, "add_histogram_raw", "bucket_counts"), np.float64
        ).reshape(-1)
        if len(limits) != len(counts):
            raise ValueError(
                "SummaryWriter.add_histogram_raw: bucket_limits and bucket_counts must have the "
                f"same length, got {len(limits)} and {len(counts)}"
            )
        stats = [
            S.to_float(v, "add_histogram_raw", n)
            for v, n in (
                (min, "min"),
                (max, "max"),
                (num, "num"),
                (sum, "sum"),
                (sum_squares, "sum_squares"),
            )
        ]
        proto = S.histogram_proto(*stats, limits, counts)
        self._add(
            S.summary(S.value(str(tag), histo=proto)), global_step, walltime, "add_histogram_raw"
        )

    # ------------------------------------------------------------------ images
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image, PNG-encoded.

        ``dataformats`` gives the layout (``'CHW'``, ``'HWC'``, ``'HW'``...). Floats are taken
        as [0, 1] and scaled by 255; ``uint8`` is used as it is. 1-channel images are shown
        as grey RGB; 4 channels are RGBA.
        """
        arr = S.to_numpy(img_tensor, "add_image", "img_tensor")
        batch = S.to_nchw("add_image", arr, dataformats)
        chw = batch[0] if batch.shape[0] == 1 else S.grid(batch)
        self._add(S.image(str(tag), chw, "add_image"), global_step, walltime, "add_image")

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images as one grid image (up to 8 a row, no padding)."""
        arr = S.to_numpy(img_tensor, "add_images", "img_tensor")
        batch = S.to_nchw("add_images", arr, dataformats)
        if batch.shape[0] == 0:
            raise ValueError("SummaryWriter.add_images: img_tensor holds no images")
        self._add(
            S.image(str(tag), S.grid(batch), "add_images"), global_step, walltime, "add_images"
        )

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Render a matplotlib figure (or a list of them, logged as a grid) as an image."""
        try:
            import matplotlib.backends.backend_agg as agg
        except ImportError as exc:
            raise ImportError(
                "SummaryWriter.add_figure needs matplotlib: pip install matplotlib"
            ) from exc

        def render(fig):
            canvas = agg.FigureCanvasAgg(fig)
            canvas.draw()
            rgba = np.asarray(canvas.buffer_rgba())
            if close:
                import matplotlib.pyplot as plt

                plt.close(fig)
            return np.transpose(rgba[:, :, :3], (2, 0, 1))

        if isinstance(figure, list):
            imgs = np.stack([render(f) for f in figure])
            self.add_images(tag, imgs, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, render(figure), global_step, walltime, dataformats="CHW")

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Not supported: logging videos (animated GIF encoding) is not implemented."""
        raise NotImplementedError(
            "SummaryWriter.add_video is not implemented in ember; log frames with add_images"
        )

    # ------------------------------------------------------------------ audio and text
    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log mono audio (values in [-1, 1], clipped) as 16-bit PCM WAV."""
        arr = S.to_numpy(snd_tensor, "add_audio", "snd_tensor")
        arr = arr.squeeze()
        if arr.ndim != 1:
            raise ValueError(
                "SummaryWriter.add_audio: snd_tensor must be one-dimensional (mono samples), "
                f"got shape {tuple(S.to_numpy(snd_tensor, 'add_audio', 'snd_tensor').shape)}"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"SummaryWriter.add_audio: snd_tensor has unsupported dtype {arr.dtype}"
            )
        rate = S.to_float(sample_rate, "add_audio", "sample_rate")
        if rate <= 0:
            raise ValueError(f"SummaryWriter.add_audio: sample_rate must be positive, got {rate}")
        self._add(S.audio(str(tag), arr, rate), global_step, walltime, "add_audio")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (markdown) string, under the tag ``<tag>/text_summary``."""
        if not isinstance(text_string, str):
            raise TypeError(
                f"SummaryWriter.add_text: text_string must be a str, got "
                f"{type(text_string).__name__}"
            )
        self._add(S.text(str(tag), text_string), global_step, walltime, "add_text")

    # ------------------------------------------------------------------ graphs
    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not supported: ember cannot write TensorFlow GraphDefs of a model."""
        raise NotImplementedError(
            "SummaryWriter.add_graph is not implemented in ember (it needs a GraphDef of the "
            "traced model); use ember.onnx.export and a viewer such as Netron instead"
        )

    # ------------------------------------------------------------------ hparams
    def add_hparams(
        self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None
    ):
        """Log a set of hyperparameters and the metrics they gave, for the HParams tab.

        The hparams summaries and the metrics (as scalars) go to a new run in
        ``<log_dir>/<run_name>`` (default: the current time in seconds).
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("SummaryWriter.add_hparams: hparam_dict and metric_dict must be dicts")
        if hparam_domain_discrete is not None and not isinstance(hparam_domain_discrete, dict):
            raise TypeError("SummaryWriter.add_hparams: hparam_domain_discrete must be a dict")
        summaries = S.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        metrics = {
            k: S.to_float(v, "add_hparams", f"metric_dict[{k!r}]") for k, v in metric_dict.items()
        }
        if not run_name:
            run_name = str(time.time())
        with SummaryWriter(
            os.path.join(self.log_dir, run_name),
            max_queue=self.max_queue,
            flush_secs=self.flush_secs,
        ) as sub:
            for summ in summaries:
                sub._add(summ, None, None, "add_hparams")
            for key, val in metrics.items():
                sub.add_scalar(key, val, global_step)

    # ------------------------------------------------------------------ PR curves
    def add_pr_curve(
        self,
        tag,
        labels,
        predictions,
        global_step=None,
        num_thresholds=127,
        weights=None,
        walltime=None,
    ):
        """Log a precision-recall curve from binary ``labels`` and ``predictions`` in [0, 1]."""
        num_thresholds = int(num_thresholds)
        if num_thresholds < 2:
            raise ValueError("SummaryWriter.add_pr_curve: num_thresholds must be at least 2")
        lab = S.to_numpy(labels, "add_pr_curve", "labels")
        pred = S.to_numpy(predictions, "add_pr_curve", "predictions")
        if pred.size and (pred.min() < 0 or pred.max() > 1):
            raise ValueError("SummaryWriter.add_pr_curve: predictions must lie in [0, 1]")
        wts = None if weights is None else S.to_numpy(weights, "add_pr_curve", "weights")
        table = S.pr_curve_table(lab, pred, num_thresholds, wts)
        self._add(
            S.pr_curve_raw(str(tag), table, num_thresholds), global_step, walltime, "add_pr_curve"
        )

    def add_pr_curve_raw(
        self,
        tag,
        true_positive_counts,
        false_positive_counts,
        true_negative_counts,
        false_negative_counts,
        precision,
        recall,
        global_step=None,
        num_thresholds=127,
        weights=None,
        walltime=None,
    ):
        """Log a precision-recall curve from precomputed counts, precision and recall."""
        rows = [
            S.to_numpy(x, "add_pr_curve_raw", name).astype(np.float64).reshape(-1)
            for x, name in (
                (true_positive_counts, "true_positive_counts"),
                (false_positive_counts, "false_positive_counts"),
                (true_negative_counts, "true_negative_counts"),
                (false_negative_counts, "false_negative_counts"),
                (precision, "precision"),
                (recall, "recall"),
            )
        ]
        if len({len(r) for r in rows}) != 1:
            raise ValueError(
                "SummaryWriter.add_pr_curve_raw: all six arrays must have the same "
                f"length, got {[len(r) for r in rows]}"
            )
        self._add(
            S.pr_curve_raw(str(tag), np.stack(rows), int(num_thresholds)),
            global_step,
            walltime,
            "add_pr_curve_raw",
        )

    # ------------------------------------------------------------------ custom scalars
    def add_custom_scalars(self, layout):
        """Define charts of the Custom Scalars dashboard:
        ``{category: {title: ['Multiline', [tags]] or ['Margin', [value, lower, upper]]}}``."""
        self._add(S.custom_scalars(layout), None, None, "add_custom_scalars")

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """Shorthand for one multi-line chart of ``tags``."""
        self.add_custom_scalars({category: {title: ["Multiline", list(tags)]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """Shorthand for one margin chart of ``[value, lower, upper]`` tags."""
        if len(tags) != 3:
            raise ValueError(
                "SummaryWriter.add_custom_scalars_marginchart: tags must be "
                f"[value, lower, upper], got {tags!r}"
            )
        self.add_custom_scalars({category: {title: ["Margin", list(tags)]}})

    # ------------------------------------------------------------------ embeddings
    def add_embedding(
        self,
        mat,
        metadata=None,
        label_img=None,
        global_step=None,
        tag="default",
        metadata_header=None,
    ):
        """Write projector files for an N x D embedding matrix under
        ``<log_dir>/<step:05d>/<tag>/`` (tensors.tsv, metadata.tsv, sprite.png) and add it
        to ``projector_config.pbtxt``."""
        arr = S.to_numpy(mat, "add_embedding", "mat")
        if arr.ndim != 2:
            raise ValueError(
                "SummaryWriter.add_embedding: mat must be 2-D (N x D), got shape "
                f"{tuple(arr.shape)}"
            )
        step = 0 if global_step is None else _step(global_step, "add_embedding")
        sub = os.path.join(f"{step:05d}", tag)
        out_dir = os.path.join(self._get_file_writer().get_logdir(), sub)
        os.makedirs(out_dir, exist_ok=True)
        if metadata is not None:
            metadata = list(metadata)
            if len(metadata) != arr.shape[0]:
                raise ValueError(
                    "SummaryWriter.add_embedding: metadata has "
                    f"{len(metadata)} entries but mat has {arr.shape[0]} rows"
                )
            lines = []
            if metadata_header is not None:
                lines.append("\t".join(str(h) for h in metadata_header))
                lines += ["\t".join(str(x) for x in row) for row in metadata]
            else:
                lines += [str(x) for x in metadata]
            with open(os.path.join(out_dir, "metadata.tsv"), "w", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
        sprite_dims = None
        if label_img is not None:
            imgs = S.to_numpy(label_img, "add_embedding", "label_img")
            if imgs.ndim != 4 or imgs.shape[0] != arr.shape[0]:
                raise ValueError(
                    "SummaryWriter.add_embedding: label_img must be N x C x H x W "
                    f"with N = {arr.shape[0]}, got shape {tuple(imgs.shape)}"
                )
            batch = S.to_nchw("add_embedding", imgs, "NCHW")
            side = math.ceil(math.sqrt(batch.shape[0]))
            padded = np.zeros((side * side,) + batch.shape[1:], batch.dtype)
            padded[: batch.shape[0]] = batch
            sheet = np.transpose(S.to_uint8(S.grid(padded, side)), (1, 2, 0))
            with open(os.path.join(out_dir, "sprite.png"), "wb") as fh:
                fh.write(S.encode_png(sheet, "add_embedding"))
            sprite_dims = batch.shape[2:]
        with open(os.path.join(out_dir, "tensors.tsv"), "w", encoding="utf-8") as fh:
            fh.write("".join("\t".join(map(str, row)) + "\n" for row in arr.tolist()))
        block = ["embeddings {", f'  tensor_name: "{tag}:{step:05d}"']
        rel = sub.replace(os.sep, "/")
        if metadata is not None:
            block.append(f'  metadata_path: "{rel}/metadata.tsv"')
        if sprite_dims is not None:
            block += [
                "  sprite {",
                f'    image_path: "{rel}/sprite.png"',
                f"    single_image_dim: {sprite_dims[1]}",
                f"    single_image_dim: {sprite_dims[0]}",
                "  }",
            ]
        block.append(f'  tensor_path: "{rel}/tensors.tsv"')
        block.append("}")
        config = os.path.join(self._get_file_writer().get_logdir(), "projector_config.pbtxt")
        with open(config, "a", encoding="utf-8") as fh:
            fh.write("\n".join(block) + "\n")

    # ------------------------------------------------------------------ lifecycle
    def flush(self):
        """Write every pending event of this writer and its sub-writers to disk."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        """Flush and close all event files (a later ``add_*`` opens a new file)."""
        for writer in self.all_writers.values():
            writer.close()
        self.all_writers = {}
        self.file_writer = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
