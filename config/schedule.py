"""The periodic schedule: which jobs the scheduler enqueues, and how often (seconds)."""

SCHEDULE = [
    ("activities.task_reminders_send", "kehu.activities.tasks.task_reminders_send", 60),
    ("support.tickets_escalate_due", "kehu.support.tasks.tickets_escalate_due", 60),
    ("support.mail_fetch", "kehu.support.tasks.mail_fetch", 60),
    ("customers.pool_recycle_due", "kehu.customers.tasks.pool_recycle_due", 3600),
    ("sales.leads_recycle_due", "kehu.sales.tasks.leads_recycle_due", 3600),
    ("sales.opportunities_flag_stale", "kehu.sales.tasks.opportunities_flag_stale", 6 * 3600),
    ("sales.instalments_notify_overdue", "kehu.sales.tasks.instalments_notify_overdue", 24 * 3600),
    ("sales.rollups_rebuild", "kehu.sales.tasks.rollups_rebuild", 24 * 3600),
    ("sales.quotes_expire_due", "kehu.sales.tasks.quotes_expire_due", 24 * 3600),
    ("integrations.imports_resume_stalled", "kehu.integrations.tasks.imports_resume_stalled", 300),
    ("core.recycle_bin_purge", "kehu.core.tasks.recycle_bin_purge", 6 * 3600),
    ("marketing.campaigns_due", "kehu.marketing.tasks.campaigns_due", 60),
    ("marketing.automations_run", "kehu.marketing.tasks.automations_run", 3600),
    ("loyalty.points_accrue", "kehu.loyalty.tasks.points_accrue", 600),
    ("loyalty.points_expire", "kehu.loyalty.tasks.points_expire", 24 * 3600),
    ("loyalty.tiers_evaluate", "kehu.loyalty.tasks.tiers_evaluate", 24 * 3600),
    ("analytics.scores_recompute", "kehu.analytics.tasks.scores_recompute", 24 * 3600),
]
