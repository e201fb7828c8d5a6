"""Benchmarks: evaluation throughput and recovery of known physics formulas."""
