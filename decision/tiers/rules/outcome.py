"""What evaluating the active ruleset concluded for one request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from decision.domain import NO_PARAMETERS


class RuleOutcome(NamedTuple):
    """The evaluated ruleset's version and hash, and the winning rule if any.

    `rule_id` is None when the ruleset was evaluated and no rule matched.
    """

    ruleset_version: str
    ruleset_hash: str
    rule_id: str | None = None
    content_ids: tuple[str, ...] = ()
    parameters: Mapping[str, str] = NO_PARAMETERS
