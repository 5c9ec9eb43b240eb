"""Simulations used by the benchmarks and their tests only: kept out of the installed package."""
