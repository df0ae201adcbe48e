"""
The tenant and cohort levels of the cascade: a tenant is a customer account of the company's product (its active
users, and the flag evaluations an export splits by tenant), a cohort the customer segment the exports name for it
(e.g. Enterprise, SMB, Free). Their KPIs are the company's formulas over their rows (the calculators split by a
Grouping); scoring.levels scores them.
"""
from django.db.models import F

from kpis.calculators.toolkit import Grouping

TENANT_GROUPING = Grouping(F("tenant_id"))
COHORT_GROUPING = Grouping(F("cohort"))
# A tenant's growth in active tenants would be its own presence: that KPI is the cohort's alone.
TENANT_KPIS = ("weekly-active-users", "feature-adoption-rate")
COHORT_KPIS = ("active-tenants", "weekly-active-users", "feature-adoption-rate")
