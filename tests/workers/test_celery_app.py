"""The Celery app's configuration, and its broker when Redis is there."""

import pytest
from django.conf import settings

from workers import app


def test_the_app_reads_its_configuration_from_django_settings():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert {q.name for q in app.conf.task_queues} == {
        "default",
        "handoffs",
        "notifications",
        "followups",
    }
    assert app.conf.broker_url == (settings.REDIS_URL or "memory://")


@pytest.mark.redis
def test_the_broker_is_reachable_on_redis():
    import redis

    assert redis.Redis.from_url(settings.REDIS_URL).ping() is True
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.connected
