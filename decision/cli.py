"""`decision`: run the service (`serve`), ask it (`decide`, `health`), check rules (`rules`)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import ValidationError

from decision import __version__
from decision.settings import Settings
from decision.tiers.experiments.cli import experiments
from decision.tiers.rules.cli import rules
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

#: Settings given as JSON on the command line (as in their environment variables).
_JSON_SETTINGS = ("tiers", "placements", "outcome_types")
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="decision")
def cli() -> None:
    """The decision service: which content to show a user right now, and why."""


def _settings_options(command: Any) -> Any:
    """One --flag per Settings field (env DECISION_<FIELD> is the fallback)."""
    for name, field in reversed(Settings.model_fields.items()):
        flag = "--" + name.replace("_", "-")
        envvar = "DECISION_" + name.upper()
        command = click.option(flag, name, default=None, help=f"{field.description} [env {envvar}]")(command)
    return command


@cli.command()
@_settings_options
@click.option("--reuse-port", is_flag=True, hidden=True, help="internal: child of --processes N")
def serve(reuse_port: bool, **flags: str | None) -> None:
    """Run the gRPC server until SIGTERM/SIGINT (then drain in-flight calls)."""
    from decision.runtime import logs
    from decision.runtime.server import ServeError
    from decision.runtime.server import serve as run_server
    from decision.runtime.supervisor import supervise

    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    for name in _JSON_SETTINGS:
        if name in given:
            try:
                given[name] = json.loads(given[name])
            except json.JSONDecodeError as exc:
                raise click.BadParameter(f"not JSON: {exc}", param_hint="--" + name) from exc
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        raise click.UsageError(_describe_settings_error(exc)) from exc
    logs.configure(settings.log_level, settings.log_format)
    if not reuse_port:
        click.echo(f"decision {__version__} settings:", err=True)
        for name, value in settings.redacted().items():
            click.echo(f"  {name} = {value}", err=True)
    try:
        code = supervise(settings) if settings.processes > 1 else run_server(settings, reuse_port)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


def _describe_settings_error(exc: ValidationError) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {name} (--{name.replace('_', '-')} / DECISION_{name.upper()}): {error['msg']}")
    return "\n".join(lines)


@cli.command()
@click.option("--target", default="localhost:50051", show_default=True, help="server host:port")
@click.option("--user", "user_id", required=True, help="pseudonymous user id")
@click.option("--placement", required=True, help="e.g. home_banner, cart_page, product_page, email")
@click.option("--region", default="", help="ISO country code, e.g. DE")
@click.option("--device", default="", help="desktop, mobile, tablet, other")
@click.option("--channel", default="", help="web, app, email, push, other")
@click.option("--locale", default="", help="e.g. de-DE")
@click.option("--cart-items", type=int, default=0, help="items in the cart")
@click.option("--cart-value", type=float, default=0.0, help="cart value")
@click.option("--currency", default="", help="cart currency, e.g. EUR")
@click.option("--cart-idle-minutes", type=float, default=None, help="minutes since the cart last changed")
@click.option("--attr", "attributes", multiple=True, metavar="KEY=VALUE", help="attribute (true/false, number or text)")
@click.option("--max-results", type=int, default=0, help="items wanted (0 = placement default)")
@click.option("--exclude", multiple=True, metavar="CONTENT_ID", help="content not to return (repeatable)")
@click.option("--consent/--no-consent", default=True, show_default=True, help="personalization consent")
@click.option("--timeout", type=float, default=2.0, show_default=True, help="deadline in seconds")
@click.option("--json", "as_json", is_flag=True, help="print the response as JSON")
def decide(target: str, as_json: bool, timeout: float, **fields: Any) -> None:
    """Ask a running server for a decision and print it."""
    request = _build_request(**fields)
    with grpc.insecure_channel(target) as channel:
        try:
            response = pb_grpc.DecisionServiceStub(channel).Decide(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise click.ClickException(f"{exc.code().name}: {exc.details()}") from exc
    if as_json:
        click.echo(json_format.MessageToJson(response, indent=2))
    else:
        click.echo(describe(response))


def _build_request(**f: Any) -> pb.DecideRequest:
    request = pb.DecideRequest(
        user_id=f["user_id"],
        placement=f["placement"],
        context=pb.Context(region=f["region"], device=f["device"], channel=f["channel"], locale=f["locale"]),
        cart=pb.Cart(item_count=f["cart_items"], value=f["cart_value"], currency=f["currency"]),
        max_results=f["max_results"],
        exclude_content_ids=f["exclude"],
        personalization_consent=pb.CONSENT_GRANTED if f["consent"] else pb.CONSENT_DENIED,
    )
    if f["cart_idle_minutes"] is not None:
        request.cart.updated_at.FromDatetime(datetime.now(UTC) - timedelta(minutes=f["cart_idle_minutes"]))
    for pair in f["attributes"]:
        key, sep, text = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--attr")
        request.attributes[key].CopyFrom(_attribute(text))
    return request


def _attribute(text: str) -> pb.AttributeValue:
    if text.lower() in ("true", "false"):
        return pb.AttributeValue(bool_value=text.lower() == "true")
    try:
        return pb.AttributeValue(number_value=float(text))
    except ValueError:
        return pb.AttributeValue(string_value=text)


def describe(response: pb.DecideResponse) -> str:
    """A response as a person reads it: what to show, who decided, and why."""
    source = pb.DecisionSource.Name(response.source).removeprefix("DECISION_SOURCE_")
    p = response.provenance
    why = {
        "RULE": f"rule {p.rule_id!r} of ruleset {p.ruleset_version}",
        "MODEL": f"model {p.model_name} v{p.model_version}",
        "DEFAULT": "the placement's default content",
    }.get(source, "unknown")
    reasons = [pb.FallbackReason.Name(r).removeprefix("FALLBACK_REASON_").lower() for r in p.fallback_reasons]
    lines = [f"decision {response.decision_id}", f"  decided by {source}: {why}"]
    if reasons:
        lines.append(f"  fallbacks: {', '.join(reasons)}")
    for item in response.items:
        params = "  " + " ".join(f"{k}={v}" for k, v in sorted(item.parameters.items())) if item.parameters else ""
        lines.append(f"  {item.rank}. {item.content_id}  score={item.score:.3f}{params}")
    if not response.items:
        lines.append("  (no eligible content)")
    return "\n".join(lines)


@cli.command()
@click.option("--target", default="localhost:50051", show_default=True, help="server host:port")
@click.option("--service", default="", help="service name to check ('' = the whole server)")
@click.option("--timeout", type=float, default=2.0, show_default=True, help="deadline in seconds")
def health(target: str, service: str, timeout: float) -> None:
    """Exit 0 if the server reports SERVING (used by the Docker HEALTHCHECK)."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            raise click.ClickException(f"{exc.code().name}: {exc.details()}") from exc
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    click.echo(status)
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        sys.exit(1)


@cli.command()
@click.option("--target", default="localhost:50051", show_default=True, help="server host:port")
@click.option("--user", "user_id", required=True, help="pseudonymous user id to forget")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="deadline in seconds")
def forget(target: str, user_id: str, timeout: float) -> None:
    """Remove a user's live and snapshot profile for good (the next training run leaves them out too)."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = pb_grpc.DecisionServiceStub(channel).Forget(pb.ForgetRequest(user_id=user_id), timeout=timeout)
        except grpc.RpcError as exc:
            raise click.ClickException(f"{exc.code().name}: {exc.details()}") from exc
    click.echo("forgotten" + ("" if reply.had_profile else " (this server held no profile for them)"))


cli.add_command(rules)
cli.add_command(experiments)


def main() -> None:
    """Console entry point."""
    cli()
