"""Benchmarks: scripts that measure and print figures and ratios from one run (`python -m bench.<name>`).

Timings are never asserted in tests; these scripts are where performance is looked at, by a person.
"""
