"""``edit_distance``: the Levenshtein distance between two sequences, as in
``torchaudio.functional``."""

from __future__ import annotations

from collections.abc import Sequence

from ember import Tensor

__all__ = ["edit_distance"]


def edit_distance(seq1: Sequence, seq2: Sequence) -> int:
    """Calculate the word level edit (Levenshtein) distance between two sequences.

    The distance counts deletions, insertions and substitutions; the result is an integer.
    Two strings give the character edit distance, two lists of strings the word edit
    distance; 1-D tensors are compared element by element. Users may want to normalize the
    output by the length of the reference sequence.

    Args:
        seq1: the first sequence to compare.
        seq2: the second sequence to compare.

    Returns:
        The distance between the first and second sequences.
    """
    # plain Python values: comparing tensor elements one at a time would be slow
    a = seq1.tolist() if isinstance(seq1, Tensor) else seq1
    b = seq2.tolist() if isinstance(seq2, Tensor) else seq2
    previous = list(range(len(b) + 1))  # distances from a[:i - 1] to every prefix of b
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        item = a[i - 1]
        for j in range(1, len(b) + 1):
            if item == b[j - 1]:
                current[j] = previous[j - 1]
            else:
                current[j] = 1 + min(previous[j - 1], current[j - 1], previous[j])
        previous = current
    return int(previous[-1])
