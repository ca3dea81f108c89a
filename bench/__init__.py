"""Benchmarks (`make bench*`); results are written to bench/results/."""
