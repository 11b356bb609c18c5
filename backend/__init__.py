# Load the Celery app with Django, so that services can send wake-ups by task
# name (and run them in-process when there is no broker).
from workers.celery import app as celery_app

__all__ = ["celery_app"]
