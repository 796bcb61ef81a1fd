"""Entry point for `flask --app wsgi ...` and WSGI servers."""

from portal import create_app, logs

# Configured here, once per process, for gunicorn's workers and every `flask` command alike.
logs.configure()
app = create_app()
