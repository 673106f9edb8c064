"""The bottom layer: records, text rules, settings, tuning, errors, progress, safe text, dates, limits.

It imports nothing of the project, so every other layer may use it."""
