"""Pareto front, scores and the choice of the answer, on hand-made fronts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfinder.model_selection import (
    data_precision,
    description_lengths,
    pareto_front,
    scores,
    select,
)
from lawfinder.search.result import HallOfFameEntry


def entry(complexity, loss):
    program = np.zeros(complexity, dtype=np.int64)
    return HallOfFameEntry(program, program, np.empty(0), complexity, loss)


def front_of(pairs):
    return [entry(complexity, loss) for complexity, loss in pairs]


def test_front_keeps_only_strict_improvements_in_complexity_order():
    entries = front_of([(5, 0.5), (1, 2.0), (3, 2.0), (4, 1.0), (7, 0.6), (9, 0.1)])

    front = pareto_front(entries)

    assert [e.complexity for e in front] == [1, 4, 5, 9]
    assert [e.loss for e in front] == [2.0, 1.0, 0.5, 0.1]


def test_front_drops_non_finite_losses_and_keeps_the_better_of_equal_size():
    entries = front_of([(1, np.inf), (2, np.nan), (3, 4.0), (3, 3.0), (5, 1.0)])

    front = pareto_front(entries)

    assert [(e.complexity, e.loss) for e in front] == [(3, 3.0), (5, 1.0)]


def test_front_drops_improvements_below_the_floor():
    entries = front_of([(1, 1.0), (3, 1e-30), (5, 1e-32), (7, 0.0)])

    front = pareto_front(entries, loss_floor=1e-20)

    assert [e.complexity for e in front] == [1, 3]


def test_front_drops_improvements_below_the_relative_tolerance():
    entries = front_of([(1, 2.0), (2, 2.0 * (1 - 1e-12)), (3, 1.0), (4, 0.99)])

    front = pareto_front(entries, rtol=1e-6)

    assert [e.complexity for e in front] == [1, 3, 4]
    assert len(pareto_front(entries)) == 4


def test_front_of_nothing_is_empty():
    assert pareto_front([]) == []


def test_scores_are_log_loss_slopes_between_neighbours():
    losses = [1.0, np.exp(-3.0), np.exp(-4.0)]
    complexities = [1, 4, 8]

    result = scores(losses, complexities)

    np.testing.assert_allclose(result, [0.0, 1.0, 0.25])


def test_an_exact_fit_scores_finitely():
    result = scores([1.0, 0.0], [1, 3])

    assert np.isfinite(result).all()
    assert result[1] > 100


def test_losses_below_the_floor_score_zero():
    result = scores([1.0, 1e-20, 1e-25], [1, 3, 5], loss_floor=1e-16)

    np.testing.assert_allclose(result, [0.0, np.log(1e16) / 2, 0.0])


def test_scores_refuse_complexities_that_do_not_increase():
    with pytest.raises(ValueError, match="increase strictly"):
        scores([2.0, 1.0], [3, 3])


def test_scores_of_an_empty_front_are_empty():
    assert scores([], []).shape == (0,)


@pytest.fixture
def front():
    # The jump from 1 to 1e-3 at complexity 3 is the law; the rest is noise-fitting.
    return front_of([(1, 1.0), (3, 1e-3), (5, 0.9e-3), (9, 0.8e-3)])


def test_accuracy_takes_the_lowest_loss(front):
    assert select(front, "accuracy") == 3


def test_score_takes_the_steepest_drop(front):
    assert select(front, "score") == 1


def test_best_takes_the_highest_score_among_nearly_lowest_losses():
    # Complexity 3 has the top score but a loss 10x the lowest: 'best' skips it.
    front = front_of([(1, 1.0), (3, 1e-2), (5, 1e-3), (7, 0.9e-3)])

    assert select(front, "score") == 1
    assert select(front, "best") == 2


def test_best_is_the_default(front):
    assert select(front) == select(front, "best") == 1


def test_select_reads_a_table(front):
    table = pd.DataFrame(
        {"complexity": [e.complexity for e in front], "loss": [e.loss for e in front]}
    )

    assert select(table, "accuracy") == 3
    assert select(table, "best") == 1


def test_accuracy_prefers_the_simplest_exact_fit_under_the_floor():
    front = front_of([(1, 1.0), (3, 1e-30), (5, 1e-32)])

    assert select(front, "accuracy", loss_floor=1e-20) == 1
    assert select(front, "accuracy") == 2


def test_a_single_equation_is_chosen():
    assert select(front_of([(1, 3.0)]), "best") == 0


def test_unknown_model_selection_lists_the_allowed_values(front):
    with pytest.raises(ValueError, match="'best', 'accuracy', 'score', 'mdl'"):
        select(front, "simplest")


def test_empty_front_cannot_be_selected_from():
    with pytest.raises(ValueError, match="empty"):
        select([], "best")


def test_description_lengths_match_a_direct_computation():
    losses = np.array([2.0, 1e-6, 1e-20, np.inf])
    complexities = np.array([1, 4, 9, 11])
    n_symbols, epsilon, weight = 7, 1e-4, 0.5

    result = description_lengths(losses, complexities, n_symbols, epsilon, weight)

    expected = [
        complexity * np.log2(n_symbols)
        + weight * np.log2(max(1.0, np.sqrt(loss) / epsilon))
        for loss, complexity in zip(losses, complexities, strict=True)
    ]
    np.testing.assert_allclose(result, expected)
    # Below the precision the error costs nothing: only the naming is left.
    assert result[2] == 9 * np.log2(7)
    assert result[3] == np.inf


def test_description_lengths_refuse_a_bad_precision_or_alphabet():
    with pytest.raises(ValueError, match="epsilon"):
        description_lengths([1.0], [1], n_symbols=4, epsilon=0.0)
    with pytest.raises(ValueError, match="n_symbols"):
        description_lengths([1.0], [1], n_symbols=0, epsilon=1e-6)
    with pytest.raises(ValueError, match="equal length"):
        description_lengths([1.0, 2.0], [1], n_symbols=4, epsilon=1e-6)


def test_mdl_takes_the_exact_simple_law_over_a_bigger_slightly_better_one():
    # Complexity 5 fits to rounding noise; 11 is a hair better, the rest worse.
    front = front_of([(1, 4.0), (3, 0.5), (5, 1e-26), (11, 1e-28)])

    chosen = select(front, "mdl", n_symbols=10, epsilon=1e-6)

    assert chosen == 2
    assert select(front, "accuracy") == 3


def test_mdl_trades_bits_of_error_against_bits_of_naming():
    # The 10% lower loss of complexity 9 saves 0.076 bits of error but costs
    # 4 * log2(10) = 13.3 bits of naming.
    pairs = [(1, 4.0), (5, 1e-10), (9, 0.9e-10)]
    front = front_of(pairs)
    epsilon = 1e-6

    chosen = select(front, "mdl", n_symbols=10, epsilon=epsilon)

    lengths = [
        complexity * np.log2(10) + np.log2(max(1.0, np.sqrt(loss) / epsilon))
        for complexity, loss in pairs
    ]
    assert chosen == int(np.argmin(lengths)) == 1
    # A coarse enough precision makes every error free: the simplest wins.
    assert select(front, "mdl", n_symbols=10, epsilon=10.0) == 0
    # Weighting the error by more than 13.3 / 0.076 makes accuracy win.
    assert select(front, "mdl", n_symbols=10, epsilon=epsilon, mdl_weight=1e3) == 2


def test_mdl_reads_a_table_and_takes_its_precision_from_the_target():
    table = pd.DataFrame({"complexity": [1, 3, 7], "loss": [1.0, 1e-8, 1e-20]})
    y = np.full(10, 100.0)

    # epsilon = 1e-6 * 100 = 1e-4, so the error 1e-4 of complexity 3 is free.
    assert data_precision(y) == pytest.approx(1e-4)
    assert select(table, "mdl", n_symbols=5, y=y) == 1
    # At a finer precision it costs 26.6 bits, more than 4 more symbols.
    assert select(table, "mdl", n_symbols=5, epsilon=1e-12) == 2


def test_mdl_needs_the_alphabet_and_the_precision(front):
    with pytest.raises(ValueError, match="n_symbols"):
        select(front, "mdl", epsilon=1e-6)
    with pytest.raises(ValueError, match="epsilon, or y"):
        select(front, "mdl", n_symbols=5)
