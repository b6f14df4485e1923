"""Schedule for ``rq cron workers.cron_config`` (RQ 3): the SMS sweeper, upstream sync,
reminder planning, the waitlist and retention.

The interval here is the default ``sms.sweep_interval_seconds``; ``workers.worker.cron_main``
(``vaxgate cron``) reads every interval from config.yaml instead. ``rq cron`` keeps no lock
across nodes: run it on one node only, or use ``vaxgate cron``, which runs each job once per
its interval however many nodes run it (workers/cron.py).
"""
from rq import cron

from gateway.config import RetentionSettings, SmsSettings, UpstreamSettings
from gateway.reminders import jobs as reminder_jobs
from gateway.upstream import jobs as upstream_jobs
from workers.jobs import apply_retention, sweep

cron.register(sweep, "otp", interval=SmsSettings().sweep_interval_seconds, result_ttl=60)
cron.register(upstream_jobs.sweep, UpstreamSettings().queue,
              interval=UpstreamSettings().sweep_interval_seconds, result_ttl=60)
reminder_jobs.register(cron, SmsSettings().sweep_interval_seconds)
cron.register(apply_retention, "bulk", interval=RetentionSettings().interval_minutes * 60,
              result_ttl=3600)
