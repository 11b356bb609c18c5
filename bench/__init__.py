"""Benchmarks: scripts that build a data set, time the code against it and print figures.

Speed is measured here, never by timed tests (see bench/README.md).
"""
