"""WSGI entry point of the demo shop (``gunicorn shop_demo.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")

application = get_wsgi_application()
