"""A small explicit random generator for kernels: xoshiro256**.

The state is a ``uint64`` array of length 4 owned by the caller, so every
random choice in a kernel comes from a generator the caller seeded.
"""

from __future__ import annotations

import numpy as np

from .._config import kernel


def new_state(rng: np.random.Generator) -> np.ndarray:
    """Draw a fresh generator state from a numpy ``Generator``."""
    state = rng.integers(1, 2**63 - 1, size=4, dtype=np.int64).astype(np.uint64)
    return state


@kernel
def _rotate_left(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@kernel
def next_uint64(state):
    """Next 64 random bits; advances ``state`` in place."""
    result = _rotate_left(state[1] * np.uint64(5), 7) * np.uint64(9)
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = _rotate_left(state[3], 45)
    return result


@kernel
def random_float(state):
    """Uniform in [0, 1)."""
    return np.float64(next_uint64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@kernel
def random_int(state, n):
    """Uniform integer in [0, n) for 0 < n < 2**32."""
    high = next_uint64(state) >> np.uint64(32)
    return np.int64((high * np.uint64(n)) >> np.uint64(32))


@kernel
def random_normal(state):
    """Standard normal by the Box-Muller transform."""
    u = 1.0 - random_float(state)
    v = random_float(state)
    return np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * np.pi * v)
