"""The shop's Celery app (django-talon's tasks are ``shared_task``s and attach to it).

Loaded by the ``example_project.demo`` app when Django starts, and by a worker started
with ``celery -A example_project.celery worker`` / ``beat``. Without ``CELERY_BROKER_URL``
the settings make it run every task eagerly, inside the web process (the demo).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

app = Celery("example_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
