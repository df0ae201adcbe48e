"""
The exec cockpit's pages: what each page shows, read from stored snapshots and the incident data behind them.

Every page runs a fixed handful of queries however many KPIs, scopes or days it shows: one per kind of thing
(snapshots of the scope, definitions, breaches, ...), never one per KPI. What a user may see is the API's rule
(`KpiDefinition.objects.visible_to`): an internal KPI is absent from every table, link and chart of an
executive or stakeholder, and its own pages do not exist for them. The scores themselves are the snapshot's,
as in the scorecards API.
"""

# Trend charts show this many days, ending with the scored day.
TREND_DAYS = 90
