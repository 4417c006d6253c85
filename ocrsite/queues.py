"""How much work waits in the broker, for /api/ocr/status and the metrics."""

import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

QUEUE_NAME = "celery"


def queue_depth() -> int | None:
    """Messages waiting in the default queue; None when the broker cannot be asked."""
    try:
        if settings.REDIS_HOST:
            import redis

            client = redis.Redis(host=settings.REDIS_HOST, port=settings.REDIS_PORT, db=settings.REDIS_DB,
                                 password=settings.REDIS_PASSWORD or None, socket_timeout=2)
            return int(client.llen(QUEUE_NAME))
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return sum(1 for _ in folder.glob("*.msg"))
    except Exception as error:  # a status page must answer even when the broker does not
        logger.warning("queue depth unavailable: %s", error)
        return None
