"""The state of a search between iterations: enough to continue it later.

A snapshot holds the islands, the hall of fame, the counters and the random
generators. It turns into a dictionary of plain arrays (and back), so it can
be stored with ``numpy.savez`` and read without pickles; the generator states
and counters travel as one JSON text array named ``meta``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .hall_of_fame import HallOfFame
from .island import Island

STATE_FORMAT_VERSION = 1

# Bit generators a stored state may name; the state of any other is refused.
_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}

# Per-island arrays, stacked over the islands: name -> dtype.
ISLAND_ARRAYS = {
    "opcodes": np.int64,
    "arguments": np.int64,
    "constants": np.float64,
    "lengths": np.int64,
    "losses": np.float64,
    "complexities": np.int64,
    "births": np.int64,
    "penalties": np.float64,
    "state": np.uint64,
}
HALL_OF_FAME_ARRAYS = {
    "opcodes": np.int64,
    "arguments": np.int64,
    "constants": np.float64,
    "lengths": np.int64,
    "losses": np.float64,
}
_META_KEYS = (
    "format_version",
    "iteration",
    "extra_evals",
    "elapsed",
    "seed",
    "rng",
    "island_rngs",
    "next_birth",
    "island_evals",
    "data_fingerprint",
    "timings",
)


@dataclass
class SearchSnapshot:
    """A search between two iterations.

    ``rows`` are the rows of the data the islands see (empty: all of them),
    ``extra_evals`` the evaluations spent outside the islands (refits of the
    hall of fame), and ``data_fingerprint`` identifies the data the losses
    were computed on (see `data_fingerprint`).
    """

    islands: list[Island]
    hall_of_fame: HallOfFame
    iteration: int
    extra_evals: int
    elapsed: float
    rng: np.random.Generator
    seed: int
    rows: np.ndarray
    data_fingerprint: str
    timings: dict = field(default_factory=dict)

    @property
    def n_evals(self) -> int:
        """Evaluations of the whole search so far."""
        return int(sum(island.n_evals for island in self.islands) + self.extra_evals)


def data_fingerprint(X, y, weights=None) -> str:
    """SHA-256 of the data as float64 arrays, shapes included.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
    y : array-like of shape (n_rows,)
    weights : array-like of shape (n_rows,), optional
        Empty or None for unweighted data.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> data_fingerprint([[1.0], [2.0]], [3.0, 4.0])[:12]
    'cbbb7fb180d2'
    """
    digest = hashlib.sha256()
    for values in (X, y, [] if weights is None else weights):
        array = np.ascontiguousarray(values, dtype=np.float64)
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def copy_snapshot(snapshot: SearchSnapshot) -> SearchSnapshot:
    """A copy that shares no array or generator with ``snapshot``."""
    return dataclasses.replace(
        snapshot,
        islands=[_copy_island(island) for island in snapshot.islands],
        hall_of_fame=copy_hall_of_fame(snapshot.hall_of_fame),
        rng=_copy_generator(snapshot.rng),
        rows=snapshot.rows.copy(),
        timings=dict(snapshot.timings),
    )


def snapshot_arrays(snapshot: SearchSnapshot) -> dict[str, np.ndarray]:
    """The snapshot as named arrays for ``numpy.savez``; none needs a pickle."""
    islands = snapshot.islands
    arrays = {
        f"island_{name}": np.stack([getattr(island, name) for island in islands])
        for name in ISLAND_ARRAYS
    }
    for name in HALL_OF_FAME_ARRAYS:
        arrays[f"hall_of_fame_{name}"] = getattr(snapshot.hall_of_fame, name)
    arrays["rows"] = np.asarray(snapshot.rows, dtype=np.int64)

    meta = {
        "format_version": STATE_FORMAT_VERSION,
        "iteration": int(snapshot.iteration),
        "extra_evals": int(snapshot.extra_evals),
        "elapsed": float(snapshot.elapsed),
        "seed": int(snapshot.seed),
        "rng": snapshot.rng.bit_generator.state,
        "island_rngs": [island.rng.bit_generator.state for island in islands],
        "next_birth": [int(island.next_birth) for island in islands],
        "island_evals": [int(island.n_evals) for island in islands],
        "data_fingerprint": snapshot.data_fingerprint,
        "timings": {step: float(seconds) for step, seconds in snapshot.timings.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def snapshot_from_arrays(arrays: Mapping[str, np.ndarray]) -> SearchSnapshot:
    """Rebuild a snapshot from the arrays of `snapshot_arrays`.

    Raises
    ------
    ValueError
        If an array or an entry of ``meta`` is missing or of the wrong shape,
        or the format version is not `STATE_FORMAT_VERSION`.
    """
    meta = _read_meta(arrays)
    islands_arrays = {
        name: _array(arrays, f"island_{name}", dtype)
        for name, dtype in ISLAND_ARRAYS.items()
    }
    n_islands, population_size, capacity = _island_shape(islands_arrays)
    for name in ("island_rngs", "next_birth", "island_evals"):
        if len(meta[name]) != n_islands:
            raise ValueError(
                f"meta entry {name!r} has {len(meta[name])} items for "
                f"{n_islands} islands"
            )
    islands = [
        Island(
            **{name: values[index].copy() for name, values in islands_arrays.items()},
            rng=_generator(meta["island_rngs"][index]),
            next_birth=int(meta["next_birth"][index]),
            n_evals=int(meta["island_evals"][index]),
        )
        for index in range(n_islands)
    ]

    hall_of_fame_arrays = {
        name: _array(arrays, f"hall_of_fame_{name}", dtype)
        for name, dtype in HALL_OF_FAME_ARRAYS.items()
    }
    size, hall_of_fame_capacity = hall_of_fame_arrays["opcodes"].shape
    hall_of_fame = HallOfFame(size - 1, hall_of_fame_capacity)
    for name, values in hall_of_fame_arrays.items():
        if values.shape != getattr(hall_of_fame, name).shape:
            raise ValueError(
                f"array 'hall_of_fame_{name}' has shape {values.shape}, expected "
                f"{getattr(hall_of_fame, name).shape}"
            )
        setattr(hall_of_fame, name, values.copy())

    return SearchSnapshot(
        islands=islands,
        hall_of_fame=hall_of_fame,
        iteration=int(meta["iteration"]),
        extra_evals=int(meta["extra_evals"]),
        elapsed=float(meta["elapsed"]),
        rng=_generator(meta["rng"]),
        seed=int(meta["seed"]),
        rows=_array(arrays, "rows", np.int64).copy(),
        data_fingerprint=str(meta["data_fingerprint"]),
        timings={
            str(step): float(seconds) for step, seconds in meta["timings"].items()
        },
    )


def _read_meta(arrays: Mapping[str, np.ndarray]) -> dict:
    if "meta" not in arrays:
        raise ValueError("no array 'meta' (the counters and random states)")
    try:
        meta = json.loads(str(arrays["meta"][()]))
    except (json.JSONDecodeError, TypeError, IndexError, ValueError) as error:
        raise ValueError(f"array 'meta' is not JSON text: {error}") from None
    if not isinstance(meta, dict):
        raise ValueError("array 'meta' must hold a JSON object")
    version = meta.get("format_version")
    if version != STATE_FORMAT_VERSION:
        raise ValueError(
            f"format_version {version!r} is not supported; this version of "
            f"lawfinder reads format_version {STATE_FORMAT_VERSION}"
        )
    missing = [key for key in _META_KEYS if key not in meta]
    if missing:
        raise ValueError(f"array 'meta' lacks {', '.join(missing)}")
    return meta


def _array(arrays: Mapping[str, np.ndarray], name: str, dtype) -> np.ndarray:
    if name not in arrays:
        raise ValueError(f"no array {name!r}")
    values = np.asarray(arrays[name])
    if values.dtype != np.dtype(dtype):
        raise ValueError(
            f"array {name!r} has dtype {values.dtype}, expected {np.dtype(dtype)}"
        )
    return values


def _island_shape(arrays: Mapping[str, np.ndarray]) -> tuple[int, int, int]:
    """Islands, members and program capacity of the stacked island arrays."""
    if arrays["opcodes"].ndim != 3:
        raise ValueError(
            "array 'island_opcodes' must have 3 dimensions (islands, members, "
            f"nodes), got shape {arrays['opcodes'].shape}"
        )
    n_islands, population_size, capacity = arrays["opcodes"].shape
    expected = {"state": (n_islands, 4)}
    for name in ("arguments", "constants"):
        expected[name] = (n_islands, population_size, capacity)
    for name in ("lengths", "losses", "complexities", "births", "penalties"):
        expected[name] = (n_islands, population_size)
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ValueError(
                f"array 'island_{name}' has shape {arrays[name].shape}, "
                f"expected {shape}"
            )
    return n_islands, population_size, capacity


def _generator(state) -> np.random.Generator:
    """A numpy Generator in the stored ``bit_generator.state``."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(
            f"unknown random generator {name!r}; allowed: {', '.join(_BIT_GENERATORS)}"
        )
    bit_generator = _BIT_GENERATORS[name]()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"bad state of the {name} generator: {error}") from None
    return np.random.Generator(bit_generator)


def _copy_generator(rng: np.random.Generator) -> np.random.Generator:
    return _generator(rng.bit_generator.state)


def _copy_island(island: Island) -> Island:
    arrays = {name: getattr(island, name).copy() for name in ISLAND_ARRAYS}
    return dataclasses.replace(island, **arrays, rng=_copy_generator(island.rng))


def copy_hall_of_fame(hall_of_fame: HallOfFame) -> HallOfFame:
    """A copy of ``hall_of_fame`` that shares no array with it."""
    size, capacity = hall_of_fame.opcodes.shape
    copy = HallOfFame(size - 1, capacity)
    for name in HALL_OF_FAME_ARRAYS:
        setattr(copy, name, getattr(hall_of_fame, name).copy())
    return copy
