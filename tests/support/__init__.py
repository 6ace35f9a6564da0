"""Test helpers shared by several test files and benchmarks."""
