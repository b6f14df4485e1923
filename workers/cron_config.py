"""Schedule for ``rq cron workers.cron_config`` (RQ 3): the entries of workers/schedule.py,
with the intervals of the deployment's config.yaml.

``rq cron`` keeps no lock across nodes: run it on one node only, or use ``vaxgate cron``,
which runs each job once per its interval however many nodes run it (workers/cron.py).
"""
from rq import cron

from gateway.config import load_settings
from workers.schedule import register

register(cron, load_settings())
