"""How the comparison reports (compare.py, pg_report.py) write a figure."""


def num(v, kind="time"):
    """A figure for a table: `rate` (events/s), `x` (a ratio), else a time or size."""
    if v is None:
        return "—"
    if kind == "rate":
        return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
    if kind == "x":
        return f"{v:.2f}×"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"
