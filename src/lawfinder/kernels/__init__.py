"""Numba kernels on flat arrays: evaluation, derivatives, fitting, variation."""
