"""Build the pipeline's tiers from the `tiers` setting: built-in names or `name=module:function`.

Adding a tier is a new package with a factory plus one entry in the setting; neither the
decider nor this module changes. Import errors and factories that return something that
is not a tier are refused at start, naming the entry.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence

from decision.pipeline.context import Sources
from decision.pipeline.tier import AliasRanking, Tier, TierEnvironment, TierFactory
from decision.settings import Settings

#: The tiers that ship with the service, by the name the setting uses.
BUILT_IN: dict[str, str] = {
    "rules": "decision.tiers.rules.tier:build",
    "experiments": "decision.tiers.experiments.tier:build",
    "model": "decision.tiers.model.tier:build",
    "default": "decision.pipeline.default:build",
}


class TierConfigError(ValueError):
    """An entry of the `tiers` setting cannot be built; the message names it and says what to do."""


def parse_entry(entry: str) -> tuple[str, str]:
    """(name, "module:function") for one entry: a built-in name, or `name=module:function`."""
    name, sep, target = entry.partition("=")
    name = name.strip()
    if not sep:
        if name in BUILT_IN:
            return name, BUILT_IN[name]
        close = difflib.get_close_matches(name, BUILT_IN, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TierConfigError(
            f"tiers: unknown tier {name!r}{hint}; built in: {', '.join(BUILT_IN)}; "
            "or add your own as name=module:function"
        )
    module, colon, function = target.strip().partition(":")
    if not name.isidentifier() or not colon or not module or not function:
        raise TierConfigError(f"tiers: {entry!r} is not name=module:function (e.g. promo=my_tiers.promo:build)")
    return name, f"{module}:{function}"


def build_tiers(entries: Sequence[str], settings: Settings, sources: Sources, models: AliasRanking) -> list[Tier]:
    """Import each entry's factory and call it with the tier's environment."""
    tiers = []
    for entry in entries:
        name, target = parse_entry(entry)
        factory = _factory(name, target)
        try:
            tier = factory(TierEnvironment(name, settings, sources, models))
        except ValueError as exc:  # a factory refusing its configuration says why in the message
            raise TierConfigError(f"tiers: {name}: {exc}") from exc
        missing = [attr for attr in ("name", "error_reason", "min_budget_seconds", "decide") if not hasattr(tier, attr)]
        if missing:
            raise TierConfigError(f"tiers: {target} built a {type(tier).__name__} without {', '.join(missing)}")
        tiers.append(tier)
    return tiers


def _factory(name: str, target: str) -> TierFactory:
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TierConfigError(f"tiers: {name}: cannot import {module_name} ({exc}); is it installed?") from exc
    factory = getattr(module, function, None)
    if not callable(factory):
        raise TierConfigError(f"tiers: {name}: {module_name} has no function {function!r}")
    return factory  # type: ignore[no-any-return]
