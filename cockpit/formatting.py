"""How the cockpit writes numbers, KPI values, scores, bands and trend arrows, and the labels of dimensions and units."""
from kpis.choices import Dimension, Direction, Units
from scoring.bands import band_for

DIMENSION_LABELS = {**dict(Dimension.choices), Dimension.NONE: "Tracked, not in the score"}
UNIT_LABELS = dict(Units.choices)
UNIT_FORMATS = {
    Units.PERCENT: "{} %",
    Units.PERCENT_CHANGE: "{} %",
    Units.MINUTES: "{} min",
    Units.HOURS: "{} h",
    Units.DAYS: "{} d",
    Units.MONTHS: "{} mo",
    Units.USD: "${}",
    Units.RATIO: "{}×",
    Units.PER_DAY: "{}/day",
    Units.PER_HOUR: "{}/h",
    Units.PER_MONTH: "{}/month",
    Units.COUNT: "{}",
    Units.SCORE: "{}",
}


def format_number(value):
    """Four significant digits (99.89, 34.03, 0.065), whole thousands without an exponent."""
    if value is None:
        return "–"
    if abs(value) >= 10000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_value(value, units):
    """A KPI value in its units, e.g. "99.89 %", "34.03 min", "$12,400"."""
    if value is None:
        return "–"
    return UNIT_FORMATS.get(units, "{} " + UNIT_LABELS.get(units, "")).format(format_number(value)).strip()


def format_score(score):
    return "–" if score is None else f"{score:.1f}"


def format_share(share):
    """A share of a weight in percent with at most one decimal: "70 %", "33.3 %"."""
    return f"{share:.1f}".removesuffix(".0") + " %"


def band_of(score):
    """{key, name, colour, action} of a score's band, or the "no data" pseudo-band."""
    band = band_for(score)
    if band is None:
        return {"key": "none", "name": "No data", "colour": "grey", "action": "Provide data"}
    return {"key": band.key, "name": band.name, "colour": band.colour, "action": band.action}


def trend_arrow(now, before, direction):
    """
    How a KPI moved since the earlier value: {symbol, label, css}; "better"/"worse" follow the KPI's direction.
    None when either value is missing.
    """
    if now is None or before is None:
        return None
    if abs(now - before) <= 1e-9 * max(1.0, abs(before)):
        return {"symbol": "→", "label": "unchanged", "css": "flat"}
    rising = now > before
    better = rising == (direction == Direction.HIGHER_IS_BETTER)
    return {
        "symbol": "↑" if rising else "↓",
        "label": f"{'up' if rising else 'down'} from {format_number(before)} ({'better' if better else 'worse'})",
        "css": "better" if better else "worse",
    }
