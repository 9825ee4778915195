"""Sentiment backends: one interface, several models."""
from intelligence.sentiment.base import SentimentBackend

__all__ = ["SentimentBackend"]
