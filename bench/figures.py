"""What the benchmarks share: percentiles, and the last line of key=value figures."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]


def key_values(prefix: str, result: dict) -> list[str]:
    """``result`` as ``{prefix}_{key}=value`` pairs, floats with two decimals."""
    return [f"{prefix}_{key}={value:.2f}" if isinstance(value, float) else f"{prefix}_{key}={value}"
            for key, value in result.items()]
