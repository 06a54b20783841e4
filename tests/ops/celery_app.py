"""The Celery application the ops tests run real workers with (``celery -A tests.ops.celery_app``).

A shop has its own Celery app; django_talon's tasks are ``shared_task``s with explicit names,
so they bind to whichever app the project defines. This module is the minimal project app
from docs/celery.md, configured from Django settings (``CELERY_*``).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.ops.worker_settings")

app = Celery("django_talon_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task interrupted by a dying worker is redelivered (RabbitMQ at once, Redis after
    # the visibility timeout); the outbox sweeper covers what the broker forgets.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 30},
    task_ignore_result=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks(["django_talon"])
