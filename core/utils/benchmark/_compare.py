"""``Compare``: a table of measurements (rows: sub_label, columns: description)."""

from __future__ import annotations

__all__ = ["Compare"]


class Compare:
    """Prints measurements grouped by label, one row per sub_label and one column per
    description, times in microseconds (as torch.utils.benchmark.Compare)."""

    def __init__(self, results: list):
        self._results = list(results)

    def extend_results(self, results) -> None:
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Accepted for compatibility."""

    def colorize(self, rowwise: bool = False) -> None:
        """Accepted for compatibility (no colours)."""

    def highlight_warnings(self) -> None:
        """Accepted for compatibility."""

    def __str__(self) -> str:
        blocks = []
        labels = dict.fromkeys(m.label or m.stmt for m in self._results)
        for label in labels:
            ms = [m for m in self._results if (m.label or m.stmt) == label]
            cols = list(dict.fromkeys(m.description or "" for m in ms))
            rows = list(dict.fromkeys(m.sub_label or "" for m in ms))
            cell = {(m.sub_label or "", m.description or ""): m.median * 1e6 for m in ms}
            width = max([len(r) for r in rows] + [1])
            head = " " * width + " | " + " | ".join(f"{c:>12}" for c in cols)
            lines = [f"[{'-' * 10} {label} {'-' * 10}]", head]
            for r in rows:
                vals = [f"{cell[(r, c)]:12.1f}" if (r, c) in cell else " " * 12 for c in cols]
                lines.append(f"{r:<{width}} | " + " | ".join(vals))
            lines.append("\nTimes are in microseconds (us).")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def print(self) -> None:
        print(str(self))
