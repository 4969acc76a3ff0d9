"""Running in production: systemd notifications, job liveness, health, readiness, metrics.

Everything here observes the daemon through narrow seams (the scheduler's jobs, the API
client's request observer, the job summaries ``App`` returns, the database) and never
decides what the daemon does.
"""
