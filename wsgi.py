"""WSGI entry point: `gunicorn wsgi:server`."""

from dashboard import create_app

server = create_app()
