"""The first search in a new environment compiles on two cores.

The check runs a real search in a fresh interpreter whose numba cache is an
empty folder, so every kernel is compiled as in a new installation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lawfinder.search.compiling import ParallelCompile, _usable_cores
from lawfinder.search.driver import run_search
from lawfinder.search.options import SearchOptions

SCRIPT = """
import json
import numpy as np
from lawfinder.search.compiling import ParallelCompile
from lawfinder.search.driver import run_search
from lawfinder.search.options import SearchOptions
from lawfinder.kernels.evaluate import program_loss
from lawfinder.kernels.fitting import fit_constants, normal_equations
from lawfinder.kernels.variation import crossover, mutate

started = []
original = ParallelCompile.start.__func__
def start(cls):
    compiling = original(cls)
    started.append(compiling.child is not None)
    return compiling
ParallelCompile.start = classmethod(start)

rng = np.random.default_rng(0)
X = rng.uniform(1, 2, (100, 2))
y = X[:, 0] * np.exp(-X[:, 1])
options = SearchOptions(niterations=1, populations=2, cycle_steps=200, random_state=0)
run_search(X, y, None, options)
kernels = {
    "program_loss": program_loss,
    "fit_constants": fit_constants,
    "normal_equations": normal_equations,
    "mutate": mutate,
    "crossover": crossover,
}
print(json.dumps({
    "started": started,
    "signatures": {name: len(k.signatures) for name, k in kernels.items()},
    "fit_constants_from_cache": sum(fit_constants.stats.cache_hits.values()),
}))
"""


@pytest.mark.skipif(_usable_cores() < 2, reason="needs a second core")
def test_a_cold_cache_is_filled_by_two_processes_without_compiling_twice(tmp_path):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # The child ran, and this process loaded the kernels it compiled.
    assert report["started"] == [True]
    assert report["fit_constants_from_cache"] >= 1
    # Each kernel has one compiled version: the warm-up calls used the same
    # argument types as evolve_cycle, so nothing was compiled a second time.
    assert report["signatures"] == {
        "program_loss": 1,
        "fit_constants": 1,
        "normal_equations": 1,
        "mutate": 1,
        "crossover": 1,
    }


def test_a_warm_cache_starts_no_child(monkeypatch):
    X = np.random.default_rng(1).uniform(1, 2, (50, 1))
    options = SearchOptions(niterations=1, populations=1, cycle_steps=50)
    run_search(X, X[:, 0] * 2.0, None, options)  # fills the cache if needed
    # As if this were the first search of the process.
    monkeypatch.setattr(ParallelCompile, "_started", False)

    assert ParallelCompile.start().child is None
