"""Flarum (discussions): the JSON:API at `{forum}/api`, with Flarum's token header auth."""

from .auth import FlarumAuth
from .client import PAGE_CAP, Flarum, in_discussion
from .models import Discussion, Forum, Found, Page, Post, Related, Tag, Token, User

__all__ = [
    "PAGE_CAP",
    "Discussion",
    "Flarum",
    "FlarumAuth",
    "Forum",
    "Found",
    "Page",
    "Post",
    "Related",
    "Tag",
    "Token",
    "User",
    "in_discussion",
]
