"""The web app and API (FastAPI): pages, JSON, sign-in and roles, in English and Portuguese."""
