"""The API's view classes: who may call (authentication, throttles) and how a list pages. Views stay thin: read
through the apps' selectors, write through their services (docs/api.md)."""

from rest_framework import permissions as drf_permissions
from rest_framework.generics import GenericAPIView

from projects.audit import Actor

from .pagination import Cursor
from .throttling import PublicRateThrottle, UserRateThrottle


class PublicView(GenericAPIView):
    """No login: public data only, throttled per client address."""

    authentication_classes = []
    permission_classes = [drf_permissions.AllowAny]
    throttle_classes = [PublicRateThrottle]
    pagination_class = Cursor


class MemberView(GenericAPIView):
    """A logged-in user (a personal token, or the browser's session with CSRF), throttled per user."""

    permission_classes = [drf_permissions.IsAuthenticated]
    throttle_classes = [UserRateThrottle]
    pagination_class = Cursor

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def page_of(self, queryset, rows):
        """One page of `queryset` (cursor-ordered by the paginator), rendered by `rows(items)`."""
        items = self.paginate_queryset(queryset)
        return self.get_paginated_response(rows(items))
