"""
CSV files the portal writes for people to open in a spreadsheet (the evidence CSV, the audit export). A text cell
starting with =, +, -, @, a tab or a carriage return would be read as a formula (`=HYPERLINK(...)` in an alert's
asset, say), so it is written with a leading apostrophe: shown as typed, never evaluated. Numbers stay numbers.
"""
import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """`value`, or a text that a spreadsheet would evaluate prefixed with "'"."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetSafeWriter:
    """csv.writer with every cell passed through `spreadsheet_safe`; `writerow` returns what the stream's write does."""

    def __init__(self, stream, **options):
        self.writer = csv.writer(stream, **options)

    def writerow(self, values):
        return self.writer.writerow([spreadsheet_safe(value) for value in values])
