"""Near-copies among many texts without comparing every pair: MinHash signatures and LSH bands.

XY04 flags a section 90 % alike another agency's. Comparing every pair of a year's reports is
quadratic (5,000 reports: 12 million pairs), and an index of shared sentences is too when units
write from one template (every text shares its sentences with hundreds of others). Here each text
becomes a set of 4-character shingles, digits masked (last year's text with this year's figures is
still a copy), and a 120-value MinHash signature; texts whose signatures agree on all 4 values of
any of 30 bands share a bucket. Two texts meet with probability 1 − (1 − J⁴)³⁰ for shingle
Jaccard J: 0.9997 at J = 0.7, 0.86 at 0.5, 0.22 at 0.3. Candidates are then compared exactly by
the caller's similarity, most bands shared first, a bounded number of them.

Measured on 500 ``nianbao sample`` reports (hundreds of units written from a few templates, the
hardest case): of the 353 第一部分 texts 90 % alike an earlier one, 339 were found (96 %), and all
223 of 第五部分, with about 4 exact comparisons per text instead of 250.

Hashing is deterministic (CRC-32 and fixed coefficients), so every run finds the same candidates.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import numpy as np

SHINGLE = 4
BANDS = 30
ROWS = 4
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261206)
_A = _rng.integers(1, 1 << 31, size=BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, 1 << 31, size=BANDS * ROWS, dtype=np.uint64)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def shingles(text: str) -> np.ndarray:
    """The text's distinct 4-character pieces as 32-bit hashes (digit runs as one mark, no spaces)."""
    flat = _DIGITS.sub("#", _SPACE.sub("", text))
    pieces = {flat[i : i + SHINGLE] for i in range(max(len(flat) - SHINGLE + 1, 1))}
    return np.fromiter((zlib.crc32(p.encode("utf-8")) for p in pieces), dtype=np.uint64, count=len(pieces))


def signature(text: str) -> np.ndarray:
    """The MinHash signature: for each of the hash functions, the least hash of the text's shingles."""
    hashed: np.ndarray = (np.outer(_A, shingles(text)) + _B[:, None]) % np.uint64(_PRIME)
    least: np.ndarray = hashed.min(axis=1)
    return least


def first_copies(
    texts: list[str], similarity: Callable[[int, int], float], threshold: float, tries: int = 12
) -> dict[int, tuple[int, float]]:
    """For each text that copies an earlier one (``similarity(i, j) >= threshold``), the index of
    that earlier text and their similarity.

    A text is compared exactly with at most ``tries`` earlier texts it shares bands with, most
    shared first, and a bucket holds at most ``_BUCKET`` texts; so the work grows with the number
    of texts, not with their pairs, even when hundreds of units write from one template.
    """
    buckets: dict[tuple[int, bytes], list[int]] = {}
    found: dict[int, tuple[int, float]] = {}
    for j, text in enumerate(texts):
        keys = _band_keys(signature(text))
        shared: dict[int, int] = {}
        for key in keys:
            for i in buckets.get(key, ()):
                shared[i] = shared.get(i, 0) + 1
        for i in sorted(shared, key=lambda i: (-shared[i], i))[:tries]:
            ratio = similarity(i, j)
            if ratio >= threshold:
                found[j] = (i, ratio)
                break
        for key in keys:
            bucket = buckets.setdefault(key, [])
            if len(bucket) < _BUCKET:
                bucket.append(j)
    return found


_BUCKET = 128


def _band_keys(sig: np.ndarray) -> list[tuple[int, bytes]]:
    return [(band, sig[band * ROWS : (band + 1) * ROWS].tobytes()) for band in range(BANDS)]
