"""Background jobs (apscheduler 3), started with the app: publish running contests, close finished
ones with a final leaderboard, bring streamed readings' days up to date."""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.background import BackgroundScheduler

from contest.consumption import refresh_daily
from contest.publishing import PublishingService
from contest.settings import SchedulerSettings

log = logging.getLogger(__name__)


def start_scheduler(publishing: PublishingService, settings: SchedulerSettings) -> BackgroundScheduler:
    """Start the jobs in a background thread; the caller shuts the scheduler down on exit."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    interval_s = settings.publish_interval_min * 60
    scheduler.add_job(
        publishing.publish_running,
        "interval",
        seconds=interval_s,
        # Another instance that published within most of an interval already did this tick's work.
        kwargs={"min_interval_s": interval_s * 0.8},
        id="publish_running",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    scheduler.add_job(
        refresh_daily, "interval", args=(publishing.db,), seconds=settings.refresh_daily_s, id="refresh_daily"
    )
    scheduler.start()
    log.info("scheduler started: publishing every %d min", settings.publish_interval_min)
    return scheduler
