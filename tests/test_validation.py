"""Checks on user data: clean input passes, each kind of bad input is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.exceptions import DataConversionWarning

from lawfinder.validation import (
    check_features,
    check_fit_data,
    check_target,
    check_variable_names,
    check_weights,
)


@pytest.fixture
def X():
    return np.arange(12, dtype=float).reshape(6, 2)


@pytest.fixture
def y():
    return np.linspace(0.0, 1.0, 6)


def test_clean_numpy_input_passes_through_as_float64(X, y):
    data = check_fit_data(X.astype(np.int32), y.tolist())

    assert data.X.dtype == np.float64 and data.X.flags.c_contiguous
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y)
    assert data.weights is None
    assert data.variable_names == ("x0", "x1")


def test_dataframe_columns_become_variable_names(X, y):
    frame = pd.DataFrame(X, columns=["mass", "speed"])

    data = check_fit_data(frame, pd.Series(y))

    assert data.variable_names == ("mass", "speed")
    np.testing.assert_array_equal(data.X, X)


def test_explicit_names_override_dataframe_columns(X, y):
    frame = pd.DataFrame(X, columns=["a", "b"])

    data = check_fit_data(frame, y, variable_names=["m", "v"])

    assert data.variable_names == ("m", "v")


def test_dataframe_with_non_string_columns_gets_default_names(X, y):
    data = check_fit_data(pd.DataFrame(X), y)

    assert data.variable_names == ("x0", "x1")


def test_object_array_of_numbers_is_converted(X, y):
    data = check_fit_data(X.astype(object), y)

    np.testing.assert_array_equal(data.X, X)


def test_nan_in_X_is_counted_per_column(X, y):
    X[1, 1] = np.nan
    X[3, 1] = np.nan
    X[0, 0] = np.inf

    with pytest.raises(ValueError, match="X contains NaN or infinite") as error:
        check_fit_data(X, y)

    message = str(error.value)
    assert "column 0: 1 infinite" in message
    assert "column 1: 2 NaN" in message


def test_nan_in_dataframe_names_the_column(X, y):
    frame = pd.DataFrame(X, columns=["mass", "speed"])
    frame.loc[2, "speed"] = np.nan

    with pytest.raises(ValueError, match="column 'speed': 1 NaN"):
        check_fit_data(frame, y)


def test_missing_values_in_nullable_column_count_as_nan(y):
    frame = pd.DataFrame({"n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64")})

    with pytest.raises(ValueError, match="column 'n': 1 NaN"):
        check_fit_data(frame, y)


def test_nan_and_inf_in_y_are_counted_with_rows(X, y):
    y[2] = np.nan
    y[4] = -np.inf

    with pytest.raises(ValueError, match="y contains NaN") as error:
        check_fit_data(X, y)

    assert "1 NaN and 1 infinite" in str(error.value)
    assert "rows 2, 4" in str(error.value)


def test_missing_y_is_refused(X):
    with pytest.raises(ValueError, match="the target y is None"):
        check_fit_data(X, None)


def test_mismatched_lengths_are_refused(X, y):
    with pytest.raises(ValueError, match="X has 6 rows but y has 5"):
        check_fit_data(X, y[:-1])


@pytest.mark.parametrize("n_rows", [0, 1])
def test_fewer_than_two_rows_are_refused(n_rows):
    X = np.ones((n_rows, 2))

    with pytest.raises(ValueError, match="at least 2 are needed") as error:
        check_fit_data(X, np.ones(n_rows))

    assert f"{n_rows} sample" in str(error.value)


def test_zero_features_are_refused():
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        check_fit_data(np.ones((4, 0)), np.ones(4))


def test_one_dimensional_X_is_refused_with_a_hint(y):
    with pytest.raises(
        ValueError, match=r"must be 2-D.*Reshape your data with X.reshape\(-1, 1\)"
    ):
        check_fit_data(y, y)


def test_sparse_X_is_refused():
    with pytest.raises(TypeError, match="sparse"):
        check_fit_data(scipy.sparse.csr_matrix(np.eye(3)), np.ones(3))


def test_text_dataframe_column_is_named(y):
    frame = pd.DataFrame({"mass": np.ones(6), "label": list("abcdef")})

    with pytest.raises(TypeError, match="column 'label' of X has non-numeric"):
        check_fit_data(frame, y)


def test_object_dataframe_column_with_text_is_named(y):
    labels = pd.Series([1.0, 2.0, "heavy", 4.0, 5.0, 6.0], dtype=object)
    frame = pd.DataFrame({"mass": np.ones(6), "label": labels})

    with pytest.raises(ValueError, match="column 'label' of X is not numeric"):
        check_fit_data(frame, y)


def test_categorical_dataframe_column_is_named(y):
    frame = pd.DataFrame({"kind": pd.Categorical(list("aabbcc"))})

    with pytest.raises(TypeError, match="column 'kind' of X has non-numeric dtype"):
        check_fit_data(frame, y)


def test_non_numeric_array_column_is_named(X, y):
    table = X.astype(object)
    table[3, 1] = "heavy"

    with pytest.raises(ValueError, match="column 1 of X is not numeric"):
        check_fit_data(table, y)


def test_complex_X_is_refused(X, y):
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_fit_data(X + 1j, y)


def test_non_numeric_y_is_refused(X):
    with pytest.raises(ValueError, match="y is not numeric"):
        check_fit_data(X, ["a"] * 6)


def test_column_vector_y_is_accepted_with_a_warning(X, y):
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        data = check_fit_data(X, y[:, None])

    np.testing.assert_array_equal(data.y, y)


def test_multi_output_y_is_refused(X):
    with pytest.raises(ValueError, match="multi-output regression is not supported"):
        check_fit_data(X, np.ones((6, 2)))


def test_weights_are_returned_as_float64(X, y):
    data = check_fit_data(X, y, weights=[1, 2, 3, 0, 1, 1])

    np.testing.assert_array_equal(data.weights, [1.0, 2.0, 3.0, 0.0, 1.0, 1.0])


def test_negative_weights_are_refused():
    with pytest.raises(
        ValueError, match=r"1 negative weight\(s\) \(first at row 2: -0.5\)"
    ):
        check_weights([1.0, 1.0, -0.5], 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused(bad):
    with pytest.raises(ValueError, match="weights contains NaN or infinite"):
        check_weights([1.0, bad, 1.0], 3)


def test_all_zero_weights_are_refused():
    with pytest.raises(ValueError, match="all weights are zero"):
        check_weights(np.zeros(3), 3)


def test_weights_of_wrong_length_are_refused():
    with pytest.raises(ValueError, match="X has 3 rows but weights has 2"):
        check_weights([1.0, 1.0], 3)


def test_two_dimensional_weights_are_refused():
    with pytest.raises(ValueError, match="weights must be 1-D"):
        check_weights(np.ones((3, 2)), 3)


def test_wrong_number_of_variable_names_is_refused(X, y):
    with pytest.raises(ValueError, match="got 3 variable names for 2 features"):
        check_fit_data(X, y, variable_names=["a", "b", "c"])


def test_duplicate_variable_names_are_refused():
    with pytest.raises(ValueError, match="must be distinct; repeated: v"):
        check_variable_names(["v", "m", "v"], 3)


@pytest.mark.parametrize("name", ["", " x", "x ", "a+b", "f(x)", "m/s", "2.5", "1e3"])
def test_invalid_variable_names_are_refused(name):
    with pytest.raises(ValueError, match="not a valid variable name"):
        check_variable_names([name], 1)


@pytest.mark.parametrize("name", ["exp", "sin", "ln", "Log"])
def test_operator_names_cannot_name_variables(name):
    with pytest.raises(ValueError, match="is the name of an operator"):
        check_variable_names([name], 1)


def test_names_that_are_not_identifiers_are_accepted():
    names = ["E kin", "mass [kg]", "m.1", "lambda", "2x", "théta"]

    assert check_variable_names(names, len(names)) == tuple(names)


def test_invalid_dataframe_column_suggests_variable_names(y):
    frame = pd.DataFrame({"m/s": np.ones(6)})

    with pytest.raises(ValueError, match="pass variable_names="):
        check_fit_data(frame, y)


def test_variable_names_must_be_a_list_of_strings():
    with pytest.raises(TypeError, match="must be a list of strings"):
        check_variable_names("ab", 2)
    with pytest.raises(TypeError, match="must be strings"):
        check_variable_names(["a", 3], 2)


def test_check_features_accepts_a_single_row_for_prediction():
    assert check_features([[1.0, 2.0]]).shape == (1, 2)


def test_check_target_refuses_a_scalar():
    with pytest.raises(ValueError, match="must be 1-D"):
        check_target(3.0, 1)
