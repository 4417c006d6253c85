"""Helpers shared by the admin modules of books, batches and exports."""

import logging

from django.db import connection

logger = logging.getLogger(__name__)
_time_zones_loaded: bool | None = None


def time_zones_loaded() -> bool:
    """Whether the database converts named time zones (MySQL/MariaDB need their time zone tables loaded:
    `mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql`). Without them Django's date
    truncation returns NULL and the admin's date hierarchy fails, so it is left out instead. Known answers
    are kept for the process; an unreachable database is asked again next time."""
    global _time_zones_loaded
    if _time_zones_loaded is not None:
        return _time_zones_loaded
    if connection.vendor != "mysql":
        _time_zones_loaded = True
        return True
    from django.conf import settings

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', %s)", [settings.TIME_ZONE])
            _time_zones_loaded = cursor.fetchone()[0] is not None
    except Exception:  # the database is not reachable (yet): no hierarchy this time
        return False
    if not _time_zones_loaded:
        logger.warning("the database has no time zone tables: the admin's date hierarchy is off "
                       "(load them: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql)")
    return _time_zones_loaded


class DateHierarchyMixin:
    """`date_hierarchy = date_hierarchy_field` when the database can convert time zones, none otherwise."""

    date_hierarchy_field = "created_at"

    def get_changelist_instance(self, request):
        self.date_hierarchy = self.date_hierarchy_field if time_zones_loaded() else None
        return super().get_changelist_instance(request)
