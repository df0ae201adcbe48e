"""
Production is the default: manage.py, the Celery app, wsgi and asgi load companyos.settings.production unless
DJANGO_SETTINGS_MODULE names other settings; the Makefile and the suite name theirs; the development superuser
is never made with DEBUG off.
"""
import re
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.companyos.helpers import PRODUCTION_ENV, manage, production_run
from tests.workers import PROJECT_DIR

pytestmark = pytest.mark.slow  # processes started with the production settings

PRINT_SETTINGS = (
    "import os, {module}; from django.conf import settings; "
    "print(os.environ['DJANGO_SETTINGS_MODULE'], settings.DEBUG, settings.SECRET_KEY == os.environ['SECRET_KEY'])"
)


@pytest.mark.parametrize("module", ["companyos.celery", "companyos.wsgi", "companyos.asgi"])
def test_the_celery_app_wsgi_and_asgi_load_the_production_settings_by_default(module):
    completed = production_run("-c", PRINT_SETTINGS.format(module=module), without={"DJANGO_SETTINGS_MODULE"})

    assert completed.stdout.split() == ["companyos.settings.production", "False", "True"], completed.stderr


def test_manage_py_loads_the_production_settings_by_default():
    completed = manage("shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)",
                       without={"DJANGO_SETTINGS_MODULE"})

    assert completed.stdout.strip() == "False", completed.stderr


def test_manage_py_without_settings_or_secrets_refuses_to_start():
    completed = manage("check", without=set(PRODUCTION_ENV))

    assert completed.returncode != 0
    assert "The environment variable SECRET_KEY is required" in completed.stderr


def test_the_makefile_runs_manage_py_with_the_local_settings_and_pytest_with_the_test_settings():
    dry_run = subprocess.run(["make", "-n", "demo", "run", "test"], cwd=PROJECT_DIR, capture_output=True, text=True,
                             timeout=60, check=True).stdout.splitlines()

    manage_lines = [line for line in dry_run if "manage.py" in line]
    assert len(manage_lines) >= 4
    assert all(line.startswith("DJANGO_SETTINGS_MODULE=companyos.settings.local ") for line in manage_lines)
    pytest_lines = [line for line in dry_run if re.search(r"\bpytest\b", line)]
    assert len(pytest_lines) == 2
    assert all(line.startswith("DJANGO_SETTINGS_MODULE=companyos.settings.test .venv/bin/pytest ") for line in pytest_lines)
    # Between them the two runs leave no test out: every test but the worker tests, then the worker tests.
    assert [line.split(" -m ")[-1] for line in pytest_lines] == ['"not worker"', "worker"]


def test_create_dev_superuser_refuses_under_the_production_settings_and_prints_no_password():
    # The database host does not exist: the command refuses before it would reach it.
    completed = manage("create_dev_superuser", extra={"DEV_SUPERUSER_PASSWORD": "hunter2-hunter2"})

    assert completed.returncode != 0
    assert "create_dev_superuser is for development" in completed.stderr
    assert "password" not in completed.stdout and "hunter2" not in completed.stdout + completed.stderr


def test_create_dev_superuser_refuses_with_debug_off_and_creates_nobody(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="in production run `manage.py createsuperuser`"):
        call_command("create_dev_superuser")

    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_create_dev_superuser_creates_the_login_with_debug_on(db, settings, capsys):
    settings.DEBUG = True

    call_command("create_dev_superuser")

    assert get_user_model().objects.get(username="admin").is_superuser
    assert "(shown only this once)" in capsys.readouterr().out
