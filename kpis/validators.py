from django.core.validators import RegexValidator

validate_kpi_slug = RegexValidator(
    regex=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    message="A slug is lowercase letters, digits and single hyphens, e.g. 'cadence-adherence'.",
    code="invalid_slug",
)
