"""RQ job functions (``workers.jobs``) and the worker/cron entry points (``workers.worker``)."""
