"""The deployment declarations and the service's start-up guards, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc.config import ServiceSettings, Settings
from cchc.service.runtime import ServiceAlreadyRunning, prefect_environment, service_lock
from flows.deployments import DEPLOYMENT_NAME, build_deployments, deployment_specs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, service=ServiceSettings(nightly_cron="30 1 * * *"))


def test_every_deployment_is_declared_once(settings) -> None:
    deployments = build_deployments(settings)
    names = [f"{d.flow_name}/{d.name}" for d in deployments]
    assert names == [f"onestop-pull/{DEPLOYMENT_NAME}", f"eoffice-pull/{DEPLOYMENT_NAME}",
                     f"ingest-file/{DEPLOYMENT_NAME}",
                     f"freshness-check/{DEPLOYMENT_NAME}", f"lake-upkeep/{DEPLOYMENT_NAME}"]
    for d in deployments:
        assert d.entrypoint == d.entrypoint.replace(":", ".")  # a module path, not a file path


def test_the_upkeep_is_weekly_on_either_backend(settings) -> None:
    from dataclasses import replace

    from cchc.config import WarehouseSettings

    on_lake = replace(settings, warehouse=WarehouseSettings(backend="ducklake"))
    for backend, what in ((on_lake, "small files"), (settings, "Compact the warehouse file")):
        names = [f"{d.flow_name}/{d.name}" for d in build_deployments(backend)]
        assert names[-1] == f"lake-upkeep/{DEPLOYMENT_NAME}"
        spec = deployment_specs(backend)[-1]
        [schedule] = spec.options["schedules"]
        assert (schedule.cron, schedule.timezone) == ("30 3 * * 0", "Asia/Ho_Chi_Minh")
        assert what in spec.options["description"]


def test_nightly_pull_uses_the_configured_cron_in_local_time(settings) -> None:
    pull = deployment_specs(settings)[0]
    [schedule] = pull.options["schedules"]
    assert (schedule.cron, schedule.timezone) == ("30 1 * * *", "Asia/Ho_Chi_Minh")
    [trigger] = pull.options["triggers"]
    assert trigger.expect == {"cchc.onestop.changed"}
    assert trigger.parameters is None  # no window: from the stored watermark


def test_ingest_trigger_passes_the_path_as_a_string_template(settings) -> None:
    [trigger] = deployment_specs(settings)[2].options["triggers"]
    assert trigger.expect == {"cchc.inbox.file.arrived"}
    assert trigger.parameters == {"path": "{{ event.payload.path }}", "from_inbox": True}


def test_a_second_service_on_the_same_data_folder_is_refused(settings) -> None:
    with service_lock(settings), pytest.raises(ServiceAlreadyRunning), service_lock(settings):
        pass
    with service_lock(settings):  # released on exit
        pass


def test_prefect_state_lives_under_the_data_folder(settings) -> None:
    env = prefect_environment(settings, "http://127.0.0.1:4200/api")
    assert env["PREFECT_HOME"] == str(settings.prefect_home)
    assert env["PREFECT_RUNNER_POLL_FREQUENCY"] == "1"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["CCHC_DATA_DIR"] == str(settings.data_dir)


def test_pull_deployments_run_one_at_a_time_and_cancel_collisions(settings) -> None:
    """Notifications during an outage become one pull per system, not a runner full of them."""
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    for d in build_deployments(settings):
        if d.flow_name.endswith("-pull"):
            assert d.concurrency_limit == 1, d.flow_name
            assert d.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
        elif d.flow_name == "lake-upkeep":
            assert d.concurrency_limit == 1  # a weekly job: never two at once
        else:
            assert d.concurrency_limit is None, d.flow_name  # inbox files are never cancelled


def test_clients_of_the_served_api_send_its_auth_string(settings, monkeypatch) -> None:
    from cchc.service.prefect_server import ensure_auth_string

    monkeypatch.delenv("CCHC_PREFECT_AUTH_STRING", raising=False)
    assert "PREFECT_API_AUTH_STRING" not in prefect_environment(settings, "http://x/api")
    auth = ensure_auth_string(settings.prefect_home)
    assert len(auth) >= 32
    assert (settings.prefect_home / "api-auth").stat().st_mode & 0o777 == 0o600
    assert ensure_auth_string(settings.prefect_home) == auth  # kept across starts
    assert prefect_environment(settings, "http://x/api")["PREFECT_API_AUTH_STRING"] == auth
    assert "PREFECT_API_AUTH_STRING" not in prefect_environment(settings, None)
    monkeypatch.setenv("CCHC_PREFECT_AUTH_STRING", "from-the-environment")
    assert prefect_environment(settings, "http://x/api")["PREFECT_API_AUTH_STRING"] == \
        "from-the-environment"


def test_the_receiver_stays_off_on_the_default_secret(settings) -> None:
    from dataclasses import replace

    from cchc.service.runtime import receiver_refusal

    assert "CCHC_HOOK_SECRET" in receiver_refusal(settings)  # the default, change-me
    strong = replace(settings, service=replace(settings.service, hook_secret="x" * 32))
    assert receiver_refusal(strong) is None
