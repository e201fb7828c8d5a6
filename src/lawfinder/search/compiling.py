"""Compiling the kernels of the first search on two cores at once.

numba compiles each kernel the first time it is used and caches the result
beside the package, so only the first search in a new environment pays for
compiling, about 20 seconds on one core. When the cache is empty and a second
core is free, a child process compiles the constant-fitting kernels while this
process compiles the variation kernels; each process then loads what the other
compiled from the cache instead of compiling it again.

Run as ``python -m lawfinder.search.compiling``, this module compiles the
fitting kernels and exits.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numba
import numpy as np

from .._config import ROW_BLOCK
from ..expression import Expression
from ..kernels.evaluate import program_loss
from ..kernels.fitting import fit_constants
from ..kernels.units import unit_violations
from ..kernels.variation import crossover, mutate
from ..operators import OPERATORS, VARIABLE
from .hall_of_fame import standard_errors
from .island import Island, SearchData, refit_members

logger = logging.getLogger("lawfinder")

# Longest wait for the child; past it this process compiles what is missing.
CHILD_SECONDS = 120.0


class ParallelCompile:
    """A child process compiling the fitting kernels, or nothing to wait for."""

    _started = False

    def __init__(self, child: subprocess.Popen | None) -> None:
        self.child = child

    @classmethod
    def start(cls) -> ParallelCompile:
        """Start the child if the cache lacks the kernels and a core is free.

        Only the first search of a process may start one: later ones find the
        kernels compiled.
        """
        if cls._started or not _worth_it():
            return cls(None)
        cls._started = True
        command = [sys.executable, "-m", "lawfinder.search.compiling"]
        try:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as error:
            logger.info("compiling on one core: no child process (%s)", error)
            return cls(None)
        logger.info("compiling the fitting kernels in a child process")
        return cls(child)

    def finish(self) -> None:
        """Compile the variation kernels here, then wait for the child (and
        stop it if it takes too long)."""
        if self.child is None:
            return
        compile_evaluation_kernels()
        compile_variation_kernels()
        try:
            self.child.wait(timeout=CHILD_SECONDS)
        except subprocess.TimeoutExpired:
            logger.info("the compiling child took too long; compiling here")
            self.child.kill()
            self.child.wait()
        finally:
            self.child = None


def _worth_it() -> bool:
    if numba.config.DISABLE_JIT or _usable_cores() < 2:
        return False
    try:
        index = fit_constants._cache._cache_file._index_path
    except AttributeError:  # a numba without this layout: do not guess
        return False
    return not os.path.exists(index)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _tiny_population() -> tuple[np.ndarray, ...]:
    """Two members that are each the program ``x0``, in arrays of 8 slots."""
    capacity = 8
    opcodes = np.zeros((2, capacity), dtype=np.int64)
    opcodes[:, 0] = VARIABLE
    arguments = np.zeros((2, capacity), dtype=np.int64)
    constants = np.zeros((2, capacity))
    lengths = np.ones(2, dtype=np.int64)
    return opcodes, arguments, constants, lengths


def _tiny_data() -> SearchData:
    XT = np.linspace(1.0, 2.0, 8).reshape(1, -1)
    return SearchData(XT=XT, y=XT[0].copy(), weights=np.empty(0), loss_scale=1.0)


def compile_evaluation_kernels() -> None:
    """Compile ``program_loss`` with the argument types of ``fit_constants``."""
    opcodes, arguments, constants, lengths = _tiny_population()
    data = _tiny_data()
    program_loss(
        opcodes[0],
        arguments[0],
        lengths[0],
        constants[0],
        data.XT,
        data.y,
        data.weights,
        np.empty((opcodes.shape[1], ROW_BLOCK)),
    )


def compile_variation_kernels() -> None:
    """Compile ``mutate`` and ``crossover`` with the argument types that
    ``evolve_cycle`` passes them, by calling each once."""
    opcodes, arguments, constants, lengths = _tiny_population()
    children = [array.copy() for array in (opcodes, arguments, constants)]
    state = np.arange(1, 5, dtype=np.uint64)
    binary_ops = np.array([OPERATORS["add"].opcode], dtype=np.int64)
    unary_ops = np.array([OPERATORS["neg"].opcode], dtype=np.int64)
    mutate(
        state,
        0,
        1.0,
        1,
        binary_ops,
        unary_ops,
        opcodes[0],
        arguments[0],
        constants[0],
        lengths[0],
        children[0][0],
        children[1][0],
        children[2][0],
        opcodes.shape[1],
    )
    crossover(
        state,
        opcodes[0],
        arguments[0],
        constants[0],
        lengths[0],
        opcodes[1],
        arguments[1],
        constants[1],
        lengths[1],
        children[0][0],
        children[1][0],
        children[2][0],
        children[0][1],
        children[1][1],
        children[2][1],
    )


def compile_fitting_kernels() -> None:
    """Compile ``unit_violations`` (which ``evolve_cycle`` calls), then
    ``normal_equations`` and ``fit_constants``, which needs it and
    ``program_loss``: by then the parent has usually cached the latter."""
    opcodes, arguments, constants, lengths = _tiny_population()
    unit_violations(
        opcodes[0],
        arguments[0],
        lengths[0],
        np.zeros((1, 0)),
        np.zeros(0),
        np.empty((opcodes.shape[1], 1)),
    )
    data = _tiny_data()
    program = Expression.from_string("x0 * 2.5")
    # Writable copies: numba compiles read-only arrays separately.
    standard_errors(
        np.array(program.opcodes),
        np.array(program.arguments),
        np.array(program.constants, dtype=np.float64),
        data,
    )
    island = Island(
        opcodes=opcodes,
        arguments=arguments,
        constants=constants,
        lengths=lengths,
        losses=np.zeros(2),
        complexities=np.ones(2, dtype=np.int64),
        births=np.arange(2, dtype=np.int64),
        state=np.arange(1, 5, dtype=np.uint64),
        rng=np.random.default_rng(0),
    )
    refit_members(island, np.arange(2), data, 1)


if __name__ == "__main__":
    compile_fitting_kernels()
