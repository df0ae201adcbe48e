"""
Real Celery workers for tests: started as `celery worker` processes on their own Redis database, reading
and writing the pytest-django test database, and always stopped (or killed) by the test that started them.
"""
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection

from companyos import celery_app

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60
WORKER_STOP_TIMEOUT = 20


def wait_for(condition, *, timeout, what):
    """Poll `condition` until it is true; fail the test naming `what` (text, or a function giving it) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"Timed out after {timeout}s waiting for {what() if callable(what) else what}.")


def worker_database_url():
    """The URL of the test database this test runs against, for processes started by the test."""
    database = connection.settings_dict
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


class Worker:
    """One `celery worker --pool=solo` process in its own process group, logging to `log`."""

    def __init__(self, broker_url, log, name):
        self.broker_url = broker_url
        self.log = log
        self.name = name
        self.process = None

    def start(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "companyos.settings.test",
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
        self.log.write_text("")
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("celery")), "-A", "companyos", "worker", "--pool=solo",
                    "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--hostname", f"{self.name}@%h",
                ],
                cwd=PROJECT_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill reaches this worker and nothing else
            )
        wait_for(
            lambda: self.process.poll() is None and "ready." in self.log.read_text(),
            timeout=WORKER_START_TIMEOUT,
            what=lambda: f"worker {self.name} to start\n{self.log.read_text()}",
        )
        return self

    def kill(self):
        """SIGKILL the worker's process group, as a crash or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        """Warm shutdown, then SIGKILL if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self):
        return self.log.read_text()


@contextmanager
def running_workers(broker_url, log_dir, count=1, name="worker"):
    """`count` workers on a flushed Redis database `broker_url`; stopped on exit whatever happened."""
    redis.Redis.from_url(broker_url).flushdb()
    workers = [Worker(broker_url, Path(log_dir) / f"{name}-{number}.log", f"{name}-{number}") for number in range(count)]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def send_task(task, broker_url, **kwargs):
    """Queue `task` with `kwargs` on the broker `broker_url`, as beat or another process would."""
    always_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with celery_app.connection_for_write(broker_url) as broker:
            task.apply_async(kwargs=kwargs, connection=broker)
    finally:
        celery_app.conf.task_always_eager = always_eager


def broker_is_idle(broker_url, queue="celery"):
    """No message is waiting in `queue` and none is delivered but unacknowledged (a task in progress)."""
    broker = redis.Redis.from_url(broker_url)
    return broker.llen(queue) == 0 and broker.hlen("unacked") == 0


def wait_until_idle(broker_url, *, timeout, what, workers=()):
    """Wait until the broker stays idle for a moment (a task that just finished may queue the next)."""

    def idle_twice():
        if not broker_is_idle(broker_url):
            return False
        time.sleep(0.3)
        return broker_is_idle(broker_url)

    wait_for(idle_twice, timeout=timeout, what=lambda: "\n".join([what, *(worker.output() for worker in workers)]))
