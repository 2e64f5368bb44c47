"""Decide and DecideBatch against the real server: valid calls and every bad input."""

from __future__ import annotations

import math

import grpc
import pytest

from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc


def valid_request(**overrides: object) -> pb.DecideRequest:
    request = pb.DecideRequest(
        request_id="r-1",
        user_id="u-42",
        placement="home_banner",
        context=pb.Context(region="DE", device="mobile", channel="web", locale="de-DE"),
        cart=pb.Cart(item_count=2, value=59.9, currency="EUR"),
        personalization_consent=pb.CONSENT_GRANTED,
    )
    for name, value in overrides.items():
        setattr(request, name, value)
    return request


def test_decide_answers_with_default_content_and_explains_why(stub: pb_grpc.DecisionServiceStub) -> None:
    response = stub.Decide(valid_request(), timeout=5)
    assert response.source == pb.DECISION_SOURCE_DEFAULT
    assert [i.content_id for i in response.items] == ["home_welcome"]
    assert response.items[0].rank == 1
    assert response.request_id == "r-1"
    assert len(response.decision_id) == 33
    assert response.provenance.tier == "default"  # this test server has no other tier
    assert list(response.provenance.fallback_reasons) == []
    assert response.decided_at.seconds > 0


def test_excluded_content_is_never_returned(stub: pb_grpc.DecisionServiceStub) -> None:
    request = valid_request()
    request.exclude_content_ids.append("home_welcome")
    response = stub.Decide(request, timeout=5)
    assert response.source == pb.DECISION_SOURCE_DEFAULT
    assert list(response.items) == []


def test_each_decision_gets_its_own_id(stub: pb_grpc.DecisionServiceStub) -> None:
    ids = {stub.Decide(valid_request(), timeout=5).decision_id for _ in range(5)}
    assert len(ids) == 5


def _with(path: str, value: object) -> pb.DecideRequest:
    request = valid_request()
    *parents, leaf = path.split(".")
    target = request
    for name in parents:
        target = getattr(target, name)
    setattr(target, leaf, value)
    return request


def _with_attribute(key: str, value: pb.AttributeValue) -> pb.DecideRequest:
    request = valid_request()
    request.attributes[key].CopyFrom(value)
    return request


def _with_many_attributes(n: int) -> pb.DecideRequest:
    request = valid_request()
    for i in range(n):
        request.attributes[f"k{i}"].string_value = "v"
    return request


def _with_excluded(n: int) -> pb.DecideRequest:
    request = valid_request()
    request.exclude_content_ids.extend(f"c{i}" for i in range(n))
    return request


BAD_REQUESTS = {
    "missing user_id": (_with("user_id", ""), "user_id"),
    "oversize user_id": (_with("user_id", "u" * 129), "user_id"),
    "missing placement": (_with("placement", ""), "placement"),
    "unknown placement": (_with("placement", "sidebar"), "placement"),
    "negative max_results": (_with("max_results", -1), "max_results"),
    "too many max_results": (_with("max_results", 10_000), "max_results"),
    "oversize request_id": (_with("request_id", "r" * 10_000), "request_id"),
    "bad region": (_with("context.region", "Germany"), "context.region"),
    "lowercase region": (_with("context.region", "de"), "context.region"),
    "non-ASCII region": (_with("context.region", "DÉ"), "context.region"),
    "digit in region": (_with("context.region", "D1"), "context.region"),
    "oversize device": (_with("context.device", "d" * 65), "context.device"),
    "oversize locale": (_with("context.locale", "l" * 65), "context.locale"),
    "NaN cart value": (_with("cart.value", math.nan), "cart.value"),
    "infinite cart value": (_with("cart.value", math.inf), "cart.value"),
    "negative cart value": (_with("cart.value", -1.0), "cart.value"),
    "negative cart items": (_with("cart.item_count", -3), "cart.item_count"),
    "NaN attribute": (_with_attribute("score", pb.AttributeValue(number_value=math.nan)), "attributes.score"),
    "oversize attribute": (_with_attribute("note", pb.AttributeValue(string_value="x" * 300)), "attributes.note"),
    "empty attribute": (_with_attribute("tier", pb.AttributeValue()), "attributes.tier"),
    "bad attribute key": (_with_attribute("bad key!", pb.AttributeValue(bool_value=True)), "attributes"),
    "too many attributes": (_with_many_attributes(65), "attributes"),
    "too many exclusions": (_with_excluded(1001), "exclude_content_ids"),
}


@pytest.mark.parametrize(("request_", "field"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_input_is_invalid_argument_naming_the_field(
    stub: pb_grpc.DecisionServiceStub, request_: pb.DecideRequest, field: str
) -> None:
    with pytest.raises(grpc.RpcError, match="INVALID_ARGUMENT") as caught:
        stub.Decide(request_, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}:")
    assert "Traceback" not in caught.value.details()


def test_timestamp_out_of_range_names_the_field(stub: pb_grpc.DecisionServiceStub) -> None:
    request = valid_request()
    request.cart.updated_at.seconds = 10**11
    with pytest.raises(grpc.RpcError, match=r"cart\.updated_at") as caught:
        stub.Decide(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_batch_answers_each_entry_and_isolates_bad_ones(stub: pb_grpc.DecisionServiceStub) -> None:
    requests = [valid_request(user_id=f"u{i}") for i in range(5)]
    requests[2] = valid_request(placement="nowhere")
    response = stub.DecideBatch(pb.DecideBatchRequest(requests=requests), timeout=5)
    assert len(response.results) == 5
    outcomes = [r.WhichOneof("outcome") for r in response.results]
    assert outcomes == ["response", "response", "error", "response", "response"]
    error = response.results[2].error
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert error.field == "placement"
    assert response.results[0].response.source == pb.DECISION_SOURCE_DEFAULT


@pytest.mark.parametrize("size", [0, 1001])
def test_batch_size_is_bounded(stub: pb_grpc.DecisionServiceStub, size: int) -> None:
    batch = pb.DecideBatchRequest(requests=[valid_request()] * size)
    with pytest.raises(grpc.RpcError, match="requests:") as caught:
        stub.DecideBatch(batch, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    call = channel.unary_unary("/decision.v1.DecisionService/Nope")
    with pytest.raises(grpc.RpcError, match="UNIMPLEMENTED") as caught:
        call(b"", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
