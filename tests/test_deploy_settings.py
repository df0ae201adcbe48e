"""Production settings: `check --deploy` is clean, and secrets come only from the environment."""
import os
import subprocess
import sys

import pytest

from tests.workers import PROJECT_DIR

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "companyos.settings.production",
    "SECRET_KEY": "k7#Qz!v2Lp9@Xw4%Rt6^Yb8&Nc1*Md3(Fh5)Gj0-Hs+Ae=Ui_Oy~Pl",
    "ALLOWED_HOSTS": "kpis.example.com",
    "DATABASE_URL": "postgres://companyos@db.internal:5432/companyos",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CSRF_TRUSTED_ORIGINS": "https://kpis.example.com",
}


def manage(*args, without=(), extra=None):
    """Run manage.py under the production settings, with the variables in `without` left out."""
    env = {name: value for name, value in os.environ.items() if name not in PRODUCTION_ENV and name != "DEBUG"}
    env.update({name: value for name, value in PRODUCTION_ENV.items() if name not in without})
    env.update(extra or {})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)


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
