"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py config.wsgi:application`.

Every value can be overridden from the environment, so one file serves every tier size.
The app processes are stateless (sessions in the database or Redis, files in the database
or object storage), so as many of them as needed can run behind one load balancer.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Synchronous workers: the app is database-bound; scale with processes (and machines).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes a process down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Access log on stdout with the request id the app echoes back. Both logs go through a logger
# that replaces calendar feed tokens in request lines and paths with "[redacted]".
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
logger_class = "coop.gunicorn_logging.RedactingLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
