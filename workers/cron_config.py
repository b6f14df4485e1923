"""Schedule for ``rq cron workers.cron_config`` (RQ 3): the SMS sweeper, upstream sync,
reminder planning and the waitlist.

The interval here is the default ``sms.sweep_interval_seconds``; ``workers.worker.cron_main``
reads it from config.yaml instead.
"""
from rq import cron

from gateway.config import SmsSettings, UpstreamSettings
from gateway.reminders import jobs as reminder_jobs
from gateway.upstream import jobs as upstream_jobs
from workers.jobs import sweep

cron.register(sweep, "otp", interval=SmsSettings().sweep_interval_seconds, result_ttl=60)
cron.register(upstream_jobs.sweep, UpstreamSettings().queue,
              interval=UpstreamSettings().sweep_interval_seconds, result_ttl=60)
reminder_jobs.register(cron, SmsSettings().sweep_interval_seconds)
