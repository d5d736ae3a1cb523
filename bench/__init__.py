"""Benchmarks for issue 6: each compares the project with a baseline in the same run and prints ratios.

Run `python -m bench --help`. Not part of the pytest suite: speed goals live here, as printed figures.
"""
