"""Benchmarks: runnable modules printing one JSON object (python -m bench.<name> --help)."""
