"""
The product CSV imports: daily active users (an analytics export) and feature-flag evaluations (a
LaunchDarkly-style daily export). Each row is validated by the schema below (columns as the file names
them); connectors.csv_import reads, refuses or applies the file.
"""
from rest_framework import serializers

from connectors.choices import EventSource
from connectors.csv_import import CsvKind, register

from .models import ActiveUser, FeatureFlagEvaluation

RESULTS = {"enabled": True, "disabled": False}
MAX_COUNT = 2**63 - 1  # the largest count the database stores


class ActiveUserRow(serializers.Serializer):
    """A user of a tenant active on a UTC day: one row per day, tenant and user."""

    date = serializers.DateField(source="day")
    tenant_id = serializers.CharField(max_length=200)
    user_id = serializers.CharField(max_length=200)
    cohort = serializers.CharField(max_length=100, required=False, default="")


class FeatureFlagEvaluationRow(serializers.Serializer):
    """One variation of a flag on a UTC day: how often it was served and to how many distinct contexts."""

    date = serializers.DateField(source="day")
    flag_key = serializers.CharField(max_length=200)
    variation = serializers.CharField(max_length=200)
    result = serializers.ChoiceField(choices=list(RESULTS))
    evaluations = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)
    contexts = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)
    tenant_id = serializers.CharField(max_length=200, required=False, default="")
    cohort = serializers.CharField(max_length=100, required=False, default="")

    def validate(self, attrs):
        if attrs["contexts"] > attrs["evaluations"]:
            raise serializers.ValidationError(
                {"contexts": f"More than the evaluations ({attrs['evaluations']}): each context counted was evaluated at least once."}
            )
        attrs["enabled"] = RESULTS[attrs.pop("result")]
        return attrs


ACTIVE_USERS = register(CsvKind(
    name="active-users",
    source=EventSource.ACTIVE_USERS_CSV,
    label="Active users (analytics export)",
    model=ActiveUser,
    row_schema=ActiveUserRow,
    key=("day", "tenant_id", "user_id"),
    replaces=("day",),
    help_text=(
        "An analytics export of who was active, one row per UTC day, tenant and user: date (YYYY-MM-DD), tenant_id, "
        "user_id (the same user has the same user_id on every day and in every tenant), optional cohort (the tenant's "
        "customer cohort that day, e.g. Enterprise, SMB or Free, as the billing or CRM system names its plans). Daily active tenants, "
        "weekly and monthly active users are counted from it exactly. The file restates its days: importing it "
        "replaces the company's active users of those days."
    ),
))

FEATURE_FLAGS = register(CsvKind(
    name="feature-flags",
    source=EventSource.FEATURE_FLAGS_CSV,
    label="Feature-flag evaluations (LaunchDarkly-style export)",
    model=FeatureFlagEvaluation,
    row_schema=FeatureFlagEvaluationRow,
    key=("day", "flag_key", "variation", "tenant_id", "cohort"),
    replaces=("day", "flag_key"),
    help_text=(
        "A feature-flag tool's daily evaluation export of the flags of the key features, one row per UTC day, flag "
        "and variation served: date (YYYY-MM-DD), flag_key, variation, result (enabled when the variation turns the "
        "feature on, else disabled), evaluations (times served), contexts (distinct contexts, i.e. users, served it), "
        "optional tenant_id and cohort (the rows of one tenant or cohort, split by the tool's context attributes; a "
        "file splits a flag's day one way, by tenant, by cohort, or not at all). "
        "The file restates each flag's days: importing it replaces the company's evaluations of those flags and days."
    ),
))
