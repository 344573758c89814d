"""The ASGI application for ``uvicorn cds.asgi:app`` (settings from the environment)."""

from cds.app import create_app

app = create_app()
