"""Operations: the health check and its Prometheus metrics, the admin's alerts, fallback log lines.

``log_fallback(reason, **context)`` is the one call serving code makes when a page had to
degrade (a service down, a model that cannot load); everything else is reached through
``promotions.urls`` (``health/``, ``metrics/``), the admin index and the ``deploy`` system checks.
"""

from ..fallbacks import log_fallback

__all__ = ["log_fallback"]
