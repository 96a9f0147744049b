"""docker-compose.yml cannot run here (no Docker engine), so it is kept honest by reading it:
every service, variable and port it names must exist in the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from services.roster.bootstrap import BootstrapSettings
from shared.runner import KNOWN_SERVICES
from shared.settings import SHARED_FIELDS, ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
INFRASTRUCTURE = {"postgres", "kafka"}
ENTRYPOINT_VARS = {"SERVICE"}
BOOTSTRAP_VARS = {name.upper() for name in BootstrapSettings.model_fields}
DEFAULT_PORTS = {s.name: s.port for s in KNOWN_SERVICES}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    return {k: v for k, v in compose["services"].items() if k not in INFRASTRUCTURE}


def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{name}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, ServiceSettings) and obj is not ServiceSettings
    ]
    assert len(classes) == 1, f"services/{name}/settings.py must define one settings class"
    return classes[0]


def accepted_env(name: str) -> set[str]:
    """What service ``name``'s container reads: its settings (prefixed, and the shared fields
    unprefixed), the entrypoint's SERVICE and, for the roster, the first-start bootstrap's."""
    cls = settings_class(name)
    prefix = cls.model_config["env_prefix"]
    assert prefix == f"{name.upper()}_"
    names = {f"{prefix}{field.upper()}" for field in cls.model_fields}
    names |= {field.upper() for field in cls.model_fields if field in SHARED_FIELDS}
    if name == "roster":
        names |= BOOTSTRAP_VARS
    return names | ENTRYPOINT_VARS


def has_database(name: str) -> bool:
    return (ROOT / "services" / name / "alembic.ini").exists()


def test_every_service_exists_and_every_existing_service_is_deployed(compose) -> None:
    deployed = set(app_services(compose))
    existing = {p.parent.name for p in (ROOT / "services").glob("*/app.py")}
    assert deployed == existing
    for name, spec in app_services(compose).items():
        assert spec["environment"]["SERVICE"] == name
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / spec["build"]["dockerfile"]).exists()


def test_every_variable_is_read_by_the_code(compose) -> None:
    for name, spec in app_services(compose).items():
        unknown = set(spec["environment"]) - accepted_env(name)
        assert not unknown, f"{name} sets variables no code reads: {sorted(unknown)}"


def test_every_service_gets_what_production_needs(compose) -> None:
    for name, spec in app_services(compose).items():
        env = spec["environment"]
        assert env["ENVIRONMENT"] == "production"
        assert {"KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET"} <= set(env), name
        if has_database(name):
            assert f"{name.upper()}_DATABASE_URL" in env, name
    roster = app_services(compose)["roster"]["environment"]
    assert {"ADMIN_EMPLOYEE_NO", "ADMIN_PASSWORD"} <= set(roster)


def test_ports_and_health_checks_match_the_service_defaults(compose) -> None:
    for name, spec in app_services(compose).items():
        port = DEFAULT_PORTS[name]
        assert settings_class(name).model_fields["port"].default == port
        assert spec["expose"] == [str(port)]
        assert spec["environment"][f"{name.upper()}_PORT"] == str(port)
        assert f"127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])


def test_only_the_gateway_publishes_a_port(compose) -> None:
    for name, spec in compose["services"].items():
        if name != "gateway":
            assert "ports" not in spec, f"{name} must not publish a port"


def test_databases_exist_for_every_service_and_urls_point_at_them(compose) -> None:
    postgres = compose["services"]["postgres"]
    assert (
        "./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/10-databases.sql:ro"
        in (postgres["volumes"])
    )
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    assert {s.name for s in KNOWN_SERVICES if has_database(s.name)} <= created
    for name, spec in app_services(compose).items():
        if has_database(name):
            assert spec["environment"][f"{name.upper()}_DATABASE_URL"].endswith(f"/{name}")


def test_services_wait_for_healthy_infrastructure(compose) -> None:
    assert "healthcheck" in compose["services"]["postgres"]
    assert "healthcheck" in compose["services"]["kafka"]
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for spec in app_services(compose).values():
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_entrypoint_and_env_example_know_every_service(compose) -> None:
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    for service in KNOWN_SERVICES:
        assert re.search(rf"\b{service.name}\)\s+default_port={service.port}\b", entrypoint)
    example = (ROOT / "deploy" / "env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    placeholders = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text())
    )
    assert placeholders <= documented, f"undocumented: {sorted(placeholders - documented)}"
    known = set().union(*(accepted_env(name) for name in app_services(compose))) | placeholders
    assert documented <= known, f"read by nothing: {sorted(documented - known)}"
