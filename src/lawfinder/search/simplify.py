"""Algebraic simplification of the final Pareto front.

Evolution often finds the right law in a roundabout form, such as
``sqrt(-c/(c*v^2/w - c))`` with three equal constants. After the search, each
equation of the front goes through sympy's ``simplify`` (variables that are
positive in every row are declared positive), and through ``powdenest`` with
``force=True``, which rewrites ``sqrt(1/u)`` as ``1/sqrt(u)``: equal wherever
either is real. A rewrite replaces an equation only if it uses the search's
operators, is simpler, and after refitting its constants fits the data at
least as well; the data, not sympy's assumptions, has the last word.

sympy can take very long on some expressions, so it runs in a child process
that is stopped at a deadline; where processes cannot be forked, the front is
left as it is.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from collections.abc import Sequence

import numpy as np
import sympy

from ..model_selection import pareto_front
from ..printing import to_sympy
from .candidates import entry_from_sympy
from .island import SearchData
from .result import HallOfFameEntry

logger = logging.getLogger("lawfinder")

# A rewrite may be worse than the original by this relative margin: refitting
# the same function in another form only moves the loss by rounding.
LOSS_TOLERANCE = 1e-6

# Constants go to sympy rounded to this many digits, so that constants the fit
# made equal (to rounding) are equal for sympy and cancel.
SYMPY_DIGITS = 10

# A constant this many times smaller than the largest one of its equation is
# also tried at zero.
NEGLIGIBLE = 1e-12


def simplify_front(
    entries: Sequence[HallOfFameEntry],
    data: SearchData,
    allowed_opcodes: np.ndarray,
    complexity_of: np.ndarray,
    seconds: float,
    iterations: int = 200,
) -> list[HallOfFameEntry]:
    """Hall-of-fame entries with simpler equivalents of the front's equations.

    Parameters
    ----------
    entries : sequence of HallOfFameEntry
        The hall of fame, fitted on ``data``.
    data : SearchData
        The rows the entries' losses were computed on.
    allowed_opcodes : ndarray of int
        Operators a rewrite may use (variables and constants always may).
    complexity_of : ndarray of int
        Complexity of each opcode.
    seconds : float
        Time allowed for sympy; equations not reached by then stay as they are.
    iterations : int, default=200
        Levenberg-Marquardt iterations for the constants of a rewrite.

    Returns
    -------
    list of HallOfFameEntry
        ``entries`` with each rewrite in the slot of its complexity, where it
        fits better than the entry there.
    """
    front = pareto_front(entries)
    names = [f"x{index}" for index in range(data.XT.shape[0])]
    symbols = [
        sympy.Symbol(name, real=True, positive=True if np.all(row > 0) else None)
        for name, row in zip(names, data.XT, strict=True)
    ]
    owners, expressions = [], []
    for entry in front:
        for constants in _constant_variants(entry.constants):
            owners.append(entry)
            expressions.append(
                to_sympy(
                    entry.opcodes,
                    entry.arguments,
                    constants,
                    names,
                    symbols=symbols,
                    precision=SYMPY_DIGITS,
                )
            )
    rewrites = _rewrite_in_child(expressions, seconds)

    best = {entry.complexity: entry for entry in entries}
    floor = np.finfo(np.float64).eps * float(np.mean(data.y**2))
    for entry, candidates in zip(owners, rewrites, strict=True):
        for candidate in candidates:
            rewrite = entry_from_sympy(
                candidate, names, allowed_opcodes, complexity_of, data, iterations
            )
            if rewrite is None or rewrite.complexity >= entry.complexity:
                continue
            if rewrite.loss > max(entry.loss * (1 + LOSS_TOLERANCE), floor):
                continue
            held = best.get(rewrite.complexity)
            if held is None or rewrite.loss < held.loss:
                best[rewrite.complexity] = rewrite
                logger.info(
                    "simplified at complexity %d -> %d: %s",
                    entry.complexity,
                    rewrite.complexity,
                    candidate,
                )
    return [best[complexity] for complexity in sorted(best)]


def _constant_variants(constants: np.ndarray) -> list[np.ndarray]:
    """The constants, and, if some are negligible beside the largest, a copy
    with those set to zero (a fit leaves 1e-17 where a term should vanish)."""
    magnitudes = np.abs(constants)
    if magnitudes.size < 2:
        return [constants]
    negligible = (magnitudes > 0) & (magnitudes < NEGLIGIBLE * magnitudes.max())
    if not negligible.any():
        return [constants]
    return [constants, np.where(negligible, 0.0, constants)]


def _rewrites(expression: sympy.Expr) -> list[sympy.Expr]:
    simplified = _integers_as_integers(sympy.simplify(expression))
    candidates = [simplified]
    for rewrite in (_split_root_of_quotient, _force_powdenest):
        candidate = rewrite(simplified)
        if all(candidate != seen for seen in candidates):
            candidates.append(candidate)
    return candidates


def _integers_as_integers(expression: sympy.Expr) -> sympy.Expr:
    """Floats that are integers to ``SYMPY_DIGITS`` digits become Integers, so
    that ``1.0*x`` is ``x``; the refit on the data checks the change."""
    replacements = {}
    for number in expression.atoms(sympy.Float):
        nearest = round(float(number))
        if abs(float(number) - nearest) <= 10.0**-SYMPY_DIGITS * max(1, abs(nearest)):
            replacements[number] = sympy.Integer(nearest)
    return expression.xreplace(replacements)


def _force_powdenest(expression: sympy.Expr) -> sympy.Expr:
    return sympy.powdenest(expression, force=True)


def _split_root_of_quotient(expression: sympy.Expr) -> sympy.Expr:
    """``(a / b) ** p`` -> ``a ** p / b ** p`` for fractional ``p``, with the
    signs of ``a`` and ``b`` flipped when ``a`` is a negative number.

    Both sides are equal wherever both are real; sympy keeps the left side
    because it works over the complex numbers.
    """

    def split(power: sympy.Pow) -> sympy.Expr:
        base, exponent = power.args
        if not exponent.is_Rational or exponent.is_Integer:
            return power
        numerator, denominator = sympy.fraction(sympy.together(base))
        if denominator == 1:
            return power
        if numerator.is_number and numerator.is_negative:
            numerator, denominator = -numerator, sympy.expand(-denominator)
        return numerator**exponent * denominator ** (-exponent)

    return expression.replace(lambda node: node.is_Pow, split)


def _child(expressions, results) -> None:
    for index, expression in enumerate(expressions):
        try:
            results.put((index, _rewrites(expression)))
        except Exception:  # a sympy failure only costs this equation its rewrite
            results.put((index, []))


def _rewrite_in_child(expressions: list[sympy.Expr], seconds: float) -> list[list]:
    """Rewrites of each expression, computed by a child process until a deadline."""
    rewrites: list[list] = [[] for _ in expressions]
    if not expressions or seconds <= 0:
        return rewrites
    if "fork" not in multiprocessing.get_all_start_methods():
        logger.info("no fork on this platform: the front is not simplified")
        return rewrites

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_child, args=(expressions, results), daemon=True)
    child.start()
    deadline = time.monotonic() + seconds
    received = 0
    try:
        while received < len(expressions):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.info(
                    "simplification stopped after %.3g s, %d of %d equations done",
                    seconds,
                    received,
                    len(expressions),
                )
                break
            try:
                index, candidates = results.get(timeout=remaining)
            except queue.Empty:
                continue
            rewrites[index] = candidates
            received += 1
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        results.close()
    return rewrites
