"""Records the executions of oneDNN primitives (``ember.ops._onednn._Entry.run``), for the
tests that check which calls take oneDNN."""

from ember.ops import _onednn


def record_runs(monkeypatch, keep):
    """A list that receives ``keep(kind, out_shape)`` for each execution from now on (None
    results are left out)."""
    calls = []
    real = _onednn._Entry.run

    def run(self, arrays, out_shape):
        item = keep(self.kind, out_shape)
        if item is not None:
            calls.append(item)
        return real(self, arrays, out_shape)

    monkeypatch.setattr(_onednn._Entry, "run", run)
    return calls
