"""
Daily demo values of a KPI that wander around its target: position 0 is the target, 1 the critical threshold.
A mean a little better than target and day-to-day persistence leave about a fifth of days in the warning zone
and a few beyond critical. The measured KPIs of `seed_demo` and the Prometheus demo's series both use them.
"""
from kpis.choices import Units

POSITION_MEAN, POSITION_PERSISTENCE, POSITION_NOISE = -0.15, 0.75, 0.3


def wandering_values(kpi, rng, count):
    """`count` daily values of `kpi` (which has a target and a critical threshold), within what its units allow."""
    units = Units(kpi.units)
    position = rng.uniform(-0.4, 0.2)
    for _ in range(count):
        position = POSITION_MEAN + POSITION_PERSISTENCE * (position - POSITION_MEAN) + rng.gauss(0, POSITION_NOISE)
        yield units.clamped(kpi.target + position * (kpi.critical_threshold - kpi.target))
