"""manage.py run as production runs it: in a process of its own, with the production environment."""
import os
import subprocess
import sys

from tests.workers import PROJECT_DIR

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "companyos.settings.production",
    "SECRET_KEY": "k7#Qz!v2Lp9@Xw4%Rt6^Yb8&Nc1*Md3(Fh5)Gj0-Hs+Ae=Ui_Oy~Pl",
    "ALLOWED_HOSTS": "kpis.example.com",
    "DATABASE_URL": "postgres://companyos@db.internal:5432/companyos",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CSRF_TRUSTED_ORIGINS": "https://kpis.example.com",
}


def production_run(*command, without=(), extra=None):
    """Run `command` (python's arguments) under the production environment, with the variables in `without` left out."""
    env = {name: value for name, value in os.environ.items() if name not in PRODUCTION_ENV and name != "DEBUG"}
    env.update({name: value for name, value in PRODUCTION_ENV.items() if name not in without})
    env.update(extra or {})
    return subprocess.run([sys.executable, *command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)


def manage(*args, without=(), extra=None):
    """Run manage.py under the production settings, with the variables in `without` left out."""
    return production_run("manage.py", *args, without=without, extra=extra)
