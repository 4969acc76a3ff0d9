"""Pushing seller actions (and confirmations) from the outbox table to FeedAMP."""
