"""The FeedAMP Order Management API v1 client: the only package that speaks HTTP (httpx).

Modules, one job each: ``client`` (the calls, deadlines, retries, logging), ``config`` (the plain
values a client is built from), ``transport`` (httpx
and the mapping of its exceptions), ``auth`` (single-flight token renewal), ``ratelimit``
(request-start windows), ``retry`` (Retry-After headers), ``classify`` (status -> error),
``responses`` (tolerant body parsing), ``params`` (query encoding), ``pagination`` (cursors).
"""

from feedamp_sync.feedamp.client import FeedampClient, RequestObserver
from feedamp_sync.feedamp.pagination import Page
from feedamp_sync.feedamp.transport import RequestNotSent

__all__ = ["FeedampClient", "Page", "RequestNotSent", "RequestObserver"]
