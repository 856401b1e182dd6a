"""WSGI entry point of the stock project (gunicorn --chdir bench/stock_django stock.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "stock.settings"
application = get_wsgi_application()
