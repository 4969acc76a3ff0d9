"""feedamp-sync: a daemon that keeps a local database in step with FeedAMP."""
