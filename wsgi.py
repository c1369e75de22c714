"""WSGI entry point: `gunicorn wsgi:server`."""

from dashboard.app import create_app

server = create_app()
