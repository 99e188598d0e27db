"""One shared HTTP layer for every marketplace client (design §5)."""

from connector.http.budget import Budget, DailyCounter, RateLimit
from connector.http.client import HttpClient, HttpStats, RateLimitedTooLong, TransportError

__all__ = ["Budget", "DailyCounter", "HttpClient", "HttpStats", "RateLimit", "RateLimitedTooLong",
           "TransportError"]
