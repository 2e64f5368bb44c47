"""The per-request context: the profile only with consent, shared lookups made at most once."""

from __future__ import annotations

from datetime import UTC, datetime

from decision.domain import Context, Provenance, Request
from decision.pipeline.context import RequestContext, Sources
from decision.sources.catalog import Catalog, CatalogItem
from decision.sources.features import Profile
from tests.fakes import FixedCatalog, FixedProfiles

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PROFILE = Profile("u1", NOW, NOW, NOW, NOW, events=3)
CATALOG = Catalog(
    [
        CatalogItem("a", "x", frozenset({"home_banner"})),
        CatalogItem("b", "x", frozenset({"home_banner"}), regions=frozenset({"DE"})),
        CatalogItem("c", "x", frozenset({"cart_page"})),
    ]
)


def make(consent: bool, catalog: Catalog | None = CATALOG) -> tuple[RequestContext, FixedProfiles]:
    profiles = FixedProfiles({"u1": PROFILE})
    request = Request("u1", "home_banner", context=Context(region="DE"), consent=consent)
    return RequestContext(request, NOW, None, 1, Sources(FixedCatalog(catalog), profiles)), profiles


def test_the_profile_is_looked_up_once_and_only_with_consent() -> None:
    context, profiles = make(consent=True)
    assert context.profile is PROFILE
    assert context.profile is PROFILE
    assert profiles.lookups == 1
    without, profiles = make(consent=False)
    assert without.profile is None
    assert profiles.lookups == 0


def test_eligible_content_comes_from_the_catalog_for_placement_and_region() -> None:
    context, _ = make(consent=False)
    assert context.eligible == {"a", "b"}
    assert context.eligible is context.eligible
    empty, _ = make(consent=False, catalog=None)
    assert empty.catalog is None
    assert empty.eligible == frozenset()


def test_carried_provenance_merges_field_by_field() -> None:
    context, _ = make(consent=False)
    context.carry(Provenance("v1", "h1"))
    context.carry(Provenance(details={"k": "v"}))
    assert context.carried == Provenance("v1", "h1", details={"k": "v"})
