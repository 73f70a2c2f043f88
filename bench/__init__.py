"""Benchmarks (issue 10 and 11). A package so that bench.rig can import bench.seed."""
