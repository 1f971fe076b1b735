"""Benchmarks: keying quality against ground truth, and speed against FFmpeg. Not tests.

Run from the repository root: ``python -m benchmarks.quality``, ``python -m benchmarks.speed``
(or ``python benchmarks/quality.py``). See ``benchmarks/RESULTS.md``.
"""
