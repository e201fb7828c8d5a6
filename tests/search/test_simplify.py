"""sympy's rewrites of the final front: taken only when simpler and as good."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lawfinder import Expression
from lawfinder.kernels.evaluate import program_loss
from lawfinder.operators import OPERATORS
from lawfinder.search.island import CycleSettings, SearchData
from lawfinder.search.options import SearchOptions
from lawfinder.search.result import HallOfFameEntry
from lawfinder.search.simplify import simplify_front

NAMES = ["m", "v", "c"]


def relativistic_data(n_rows=300, seed=0) -> SearchData:
    rng = np.random.default_rng(seed)
    m, v, c = (
        rng.uniform(1, 5, n_rows),
        rng.uniform(1, 2, n_rows),
        rng.uniform(3, 10, n_rows),
    )
    y = m / np.sqrt(1 - v**2 / c**2)
    X = np.column_stack([m, v, c])
    return SearchData(np.ascontiguousarray(X.T), y, np.empty(0), float(np.var(y)))


def entry_of(text: str, data: SearchData, complexity_of) -> HallOfFameEntry:
    expression = Expression.from_string(text, NAMES)
    opcodes, arguments, constants = (
        np.asarray(expression.opcodes),
        np.asarray(expression.arguments),
        np.array(expression.constants, dtype=float),
    )
    stack = np.empty((opcodes.size, 256))
    loss = program_loss(
        opcodes,
        arguments,
        opcodes.size,
        constants,
        data.XT,
        data.y,
        data.weights,
        stack,
    )
    return HallOfFameEntry(
        opcodes, arguments, constants, int(complexity_of[opcodes].sum()), float(loss)
    )


def settings_with(unary=("neg", "square", "sqrt", "exp", "log", "sin", "cos")):
    settings = CycleSettings.from_options(SearchOptions(unary_operators=unary))
    allowed = np.concatenate([settings.binary_ops, settings.unary_ops])
    return allowed, settings.complexity_of


def as_text(entry: HallOfFameEntry) -> str:
    return str(Expression(entry.opcodes, entry.arguments, entry.constants, NAMES))


def test_equal_constants_cancel_and_the_root_of_a_quotient_splits():
    data = relativistic_data()
    allowed, complexity_of = settings_with()
    # The law with three equal constants and a tiny leftover term.
    bloated = "m * sqrt(2.4e-17 - c / (-(c + -3.89 / (3.89 * c / square(v)))))"
    entry = entry_of(bloated, data, complexity_of)
    assert entry.loss < 1e-25

    simplified = simplify_front([entry], data, allowed, complexity_of, seconds=30)

    best = min(simplified, key=lambda found: found.complexity)
    assert best.complexity < entry.complexity
    assert best.loss < 1e-25
    assert as_text(best) == "m * c / sqrt(square(c) - square(v))"
    assert best.constants.size == 0
    # The original stays in its own slot; the front is what drops it.
    assert any(found is entry for found in simplified)
    assert all(found.loss < 1e-25 for found in simplified)


def test_a_rewrite_needs_the_operators_of_the_search():
    data = relativistic_data()
    text = "m * m * m + v"

    allowed, complexity_of = settings_with(unary=("neg",))
    entry = entry_of(text, data, complexity_of)
    unchanged = simplify_front([entry], data, allowed, complexity_of, seconds=30)
    assert [as_text(found) for found in unchanged] == [text]

    allowed, complexity_of = settings_with(unary=("cube",))
    entry = entry_of(text, data, complexity_of)
    rewritten = simplify_front([entry], data, allowed, complexity_of, seconds=30)
    assert "cube(m)" in as_text(rewritten[0])
    assert rewritten[0].complexity == 4  # m cube v add
    assert OPERATORS["cube"].opcode in rewritten[0].opcodes


def test_a_rewrite_that_fits_worse_is_not_taken():
    data = relativistic_data()
    allowed, complexity_of = settings_with()
    # The constant 1e-9 is negligible beside 2e3, but zeroing it changes the
    # value of exp(1e-9 * 2e3 * c) noticeably; the data must reject that.
    entry = entry_of("m * exp(1e-9 * (2000 * c))", data, complexity_of)

    found = simplify_front([entry], data, allowed, complexity_of, seconds=30)

    for rewrite in found:
        assert rewrite.loss <= entry.loss * (1 + 1e-6) or rewrite is entry
    assert all("exp" in as_text(rewrite) for rewrite in found)


def test_simplification_stops_at_its_deadline():
    data = relativistic_data()
    allowed, complexity_of = settings_with()
    texts = [
        f"m * sqrt(c / (c - square(v) / c)) + {k} * sin(v * c + {k})"
        for k in range(1, 9)
    ]
    entries = [entry_of(text, data, complexity_of) for text in texts]

    start = time.perf_counter()
    found = simplify_front(entries, data, allowed, complexity_of, seconds=0.05)
    elapsed = time.perf_counter() - start

    assert elapsed < 5.0
    # Nothing is lost: every complexity of the input still holds an equation.
    assert {entry.complexity for entry in entries} <= {f.complexity for f in found}


@pytest.mark.parametrize("simplify", [True, False])
def test_the_estimator_simplifies_only_when_asked(simplify):
    from lawfinder import SymbolicRegressor

    data = relativistic_data(n_rows=200, seed=3)
    X = data.XT.T
    model = SymbolicRegressor(
        niterations=3,
        populations=2,
        population_size=16,
        simplify=simplify,
        strategies=[],  # the priors may find the law before evolution runs
        random_state=0,
    )
    model.fit(X, data.y, variable_names=NAMES)
    assert ("simplify" in model.search_result_.timings) is simplify
