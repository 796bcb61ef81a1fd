"""Gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Sized from the environment so one file serves every machine: WEB_CONCURRENCY worker
processes of GUNICORN_THREADS threads each, listening on HOST:PORT. The portal's own settings
(DATABASE_URL, SECRET_KEY, …) are read by portal/config.py in each worker as usual.
"""

import os
from pathlib import Path

from portal import logs

# JSON logs from the master too (its start-up and worker messages), before any worker forks.
logs.configure()

# wsgi.py lives at the repository root; serving from there works from any working directory.
chdir = str(Path(__file__).resolve().parent.parent)
wsgi_app = "wsgi:app"

# Behind nginx on the same machine by default; a container sets HOST=0.0.0.0.
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]

# Threads, because a request mostly waits: on PostgreSQL, on S3, on the signing of a PDF.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Signing an agreement renders, signs and timestamps PDFs and stores them: seconds, not
# milliseconds. A worker silent for longer than this is killed and restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5

# Replace each worker after a thousand-odd requests, so a slow leak never grows unbounded;
# the jitter keeps workers from restarting together.
max_requests = 1000
max_requests_jitter = 100

# Every log line JSON on stderr/stdout, for journald or the container's log collector.
accesslog = "-"
errorlog = "-"
logger_class = "portal.logs.JsonAccessLogger"

# The portal is run by systemd (deploy/*.service) or a container, not managed through
# gunicorn's control socket; none is opened.
control_socket_disable = True
