"""One user's running aggregates, replayed event by event in time order.

`profile(as_of)` freezes what has been added so far into a `decision.sources.features.Profile`;
callers add only events strictly before `as_of`, which is what makes training
point-in-time. The same replay produces the end-of-log snapshot the service reads.
"""

from __future__ import annotations

from datetime import datetime

from decision.domain import Cart
from decision.sources.features import SESSION_GAP_SECONDS, Profile


class UserHistory:
    """Aggregates of one user's events so far, plus the cart they imply."""

    __slots__ = (
        "cart_items",
        "cart_updated",
        "cart_value",
        "carts",
        "category_views",
        "clicks",
        "content_clicks",
        "events",
        "first_seen",
        "last_content",
        "last_purchase",
        "last_s",
        "last_seen",
        "monetary",
        "purchases",
        "session_events",
        "session_start",
        "sessions",
        "user_id",
        "views",
    )

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.events = self.sessions = self.session_events = 0
        self.views = self.clicks = self.carts = self.purchases = 0
        self.monetary = 0.0
        self.last_content = ""
        self.content_clicks: dict[str, int] = {}
        self.category_views: dict[str, int] = {}
        self.first_seen = self.last_seen = self.session_start = datetime.min
        self.last_purchase: datetime | None = None
        self.last_s = 0.0
        self.cart_items = 0
        self.cart_value = 0.0
        self.cart_updated: datetime | None = None

    def add(
        self,
        when: datetime,
        when_s: float,
        event_type: str,
        content_id: str | None,
        category: str | None,
        value: float | None,
    ) -> None:
        """Fold one event in; events must arrive in time order."""
        if not self.events or when_s - self.last_s > SESSION_GAP_SECONDS:
            self.sessions += 1
            self.session_start = when
            self.session_events = 0
        if not self.events:
            self.first_seen = when
        self.events += 1
        self.session_events += 1
        self.last_seen, self.last_s = when, when_s
        amount = value if value is not None and value == value else 0.0  # NaN = no value
        if event_type == "view":
            self.views += 1
            key = category or ""
            self.category_views[key] = self.category_views.get(key, 0) + 1
        elif event_type == "click":
            self.clicks += 1
            if content_id:
                self.content_clicks[content_id] = self.content_clicks.get(content_id, 0) + 1
                self.last_content = content_id
        elif event_type == "add_to_cart":
            self.carts += 1
            self._cart(when, 1, amount)
        elif event_type == "remove_from_cart":
            self._cart(when, -1, -amount)
        elif event_type == "purchase":
            self.purchases += 1
            self.monetary += amount
            self.last_purchase = when
            self.cart_items, self.cart_value, self.cart_updated = 0, 0.0, when

    def _cart(self, when: datetime, items: int, value: float) -> None:
        self.cart_items = max(0, self.cart_items + items)
        self.cart_value = max(0.0, self.cart_value + value) if self.cart_items else 0.0
        self.cart_updated = when

    def profile(self, as_of: datetime) -> Profile | None:
        """The aggregates as a Profile; None before the first event (a new user)."""
        if not self.events:
            return None
        return Profile(
            user_id=self.user_id,
            as_of=as_of,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            session_start=self.session_start,
            last_purchase=self.last_purchase,
            events=self.events,
            sessions=self.sessions,
            session_events=self.session_events,
            views=self.views,
            clicks=self.clicks,
            carts=self.carts,
            purchases=self.purchases,
            monetary=self.monetary,  # rounded only when written (profiles.to_json), as live profiles are
            last_content=self.last_content,
            content_clicks=dict(self.content_clicks),
            category_views=dict(self.category_views),
        )

    def cart(self) -> Cart:
        """The cart as the caller would describe it at this point of the replay."""
        return Cart(
            item_count=self.cart_items,
            value=round(self.cart_value, 6),
            updated_at=self.cart_updated,
        )
