"""Production settings: `check --deploy` is clean, and secrets come only from the environment."""
import pytest

from tests.companyos.helpers import manage

pytestmark = pytest.mark.slow  # manage.py started with the production settings


def test_the_deployment_check_passes_with_no_warning():
    completed = manage("check", "--deploy", "--fail-level", "WARNING")

    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


@pytest.mark.parametrize("variable", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"])
def test_production_refuses_to_start_without_a_required_variable_naming_it(variable):
    completed = manage("check", without={variable})

    assert completed.returncode != 0
    assert f"The environment variable {variable} is required" in completed.stderr


def test_debug_cannot_be_switched_on_in_production():
    print_debug = "from django.conf import settings; print(settings.DEBUG)"

    completed = manage("shell", "--no-imports", "-c", print_debug, extra={"DEBUG": "1"})

    assert completed.stdout.strip() == "False", completed.stderr
