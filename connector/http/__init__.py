"""One shared HTTP layer for every marketplace client (design §5)."""

from connector.http.budget import Budget, DailyCounter, RateLimit
from connector.http.client import HttpClient, HttpStats, RateLimitedTooLong, TransportError, bearer
from connector.http.paging import Page, Paging, PagingError, iter_items, iter_pages

__all__ = ["Budget", "DailyCounter", "HttpClient", "HttpStats", "Page", "Paging", "PagingError", "RateLimit",
           "RateLimitedTooLong", "TransportError", "bearer", "iter_items", "iter_pages"]
