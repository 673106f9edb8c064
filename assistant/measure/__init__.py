"""Measuring the product: `eval` (answer quality) and `bench` (speed)."""
