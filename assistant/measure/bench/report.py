"""The benchmark's report: one row per figure (ours, the peer's or the bare library's, their
ratio, the target and whether it is met), printed as a table and written as JSON."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure. A target is one of: at most `max_ratio` times the reference, at
    least `min_ratio` times it, or at most `max_value` in the figure's own unit."""

    name: str
    ours: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    max_ratio: float | None = None
    min_ratio: float | None = None
    max_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.ours / self.reference if self.reference else None

    @property
    def target(self) -> str:
        if self.max_ratio is not None:
            return f"≤ {self.max_ratio:g}×"
        if self.min_ratio is not None:
            return f"≥ {self.min_ratio:.0%}"
        if self.max_value is not None:
            return f"≤ {self.max_value:g} {self.unit}"
        return ""

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if self.max_ratio is not None and ratio is not None:
            return ratio <= self.max_ratio
        if self.min_ratio is not None and ratio is not None:
            return ratio >= self.min_ratio
        if self.max_value is not None:
            return self.ours <= self.max_value
        return None

    def to_json(self) -> dict[str, object]:
        return {"figure": self.name, "ours": round(self.ours, 4), "unit": self.unit,
                "reference": None if self.reference is None else round(self.reference, 4),
                "reference_name": self.reference_name or None,
                "ratio": None if self.ratio is None else round(self.ratio, 3),
                "target": self.target or None, "met": self.met, "note": self.note or None}


def _number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 0.1 else 3
    return f"{value:,.{digits}f} {unit}"


def table(figures: list[Figure]) -> str:
    """A plain-text table that reads the same in a terminal, a log and the README."""
    header = ("figure", "ours", "peer / bare", "ratio", "target", "met")
    rows = [header]
    for f in figures:
        reference = f"{_number(f.reference, f.unit)} ({f.reference_name})" if f.reference is not None else ""
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append((f.name + (f" ({f.note})" if f.note else ""), _number(f.ours, f.unit), reference, ratio, f.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
