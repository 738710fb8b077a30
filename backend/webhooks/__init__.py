"""Outbound webhooks: subscriptions of a project, an outbox relayed from the activity log to a job
queue (saq on Redis), and workers that deliver signed requests (Standard Webhooks) with retries."""
