"""Production entry point: `gunicorn wsgi:app`. Configuration comes from the environment
(DATABASE_URL, FIELDAPP_SECRET_KEY, FIELDAPP_TIMEZONE)."""

from fieldapp import create_app

app = create_app({"FIELDAPP_PRODUCTION": True})  # refuses to start without FIELDAPP_SECRET_KEY
