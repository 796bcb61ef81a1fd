"""`/healthz`: the database, document storage and the scheduler's last sweep, as JSON, open to
anyone; 200 when all are well, 503 naming what is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from portal import clock, create_app, jobs
from portal.config import Config
from portal.storage import LocalStorage, S3Storage


def health(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    assert response.is_json
    return response.status_code, response.get_json()


def failing(body: dict) -> set[str]:
    return {name for name, check in body["checks"].items() if not check["ok"]}


def test_healthy_after_a_sweep_without_logging_in(app, client):
    jobs.fire_deadlines(app)

    status, body = health(client)

    assert status == 200, body
    assert body["status"] == "ok" and failing(body) == set()
    assert "last sweep" in body["checks"]["scheduler"]["detail"]


def test_no_sweep_yet_is_a_stale_scheduler(app, client):
    status, body = health(client)

    assert status == 503
    assert failing(body) == {"scheduler"}
    assert body["checks"]["scheduler"]["detail"].startswith("stale")


def test_the_scheduler_goes_stale_when_its_sweeps_stop(app, client):
    max_age = app.config["HEALTH_SCHEDULER_MAX_AGE_SECONDS"]
    with time_machine.travel(clock.now(), tick=False) as traveller:
        jobs.fire_deadlines(app)
        traveller.shift(timedelta(seconds=max_age - 1))
        assert health(client)[0] == 200

        traveller.shift(timedelta(seconds=2))
        status, body = health(client)
        assert status == 503 and failing(body) == {"scheduler"}
        assert "stale" in body["checks"]["scheduler"]["detail"]

        jobs.fire_deadlines(app)  # the scheduler is back
        assert health(client)[0] == 200


@pytest.mark.parametrize("where", ["unmounted volume", "a file in the way"])
def test_unusable_storage_fails_the_check(app, client, tmp_path, where):
    if where == "a file in the way":
        root = tmp_path / "documents"
        root.write_text("not a folder")
    else:
        root = tmp_path / "not-mounted" / "documents"
    app.extensions.setdefault("portal", {})["storage"] = LocalStorage(root)
    jobs.fire_deadlines(app)

    status, body = health(client)

    assert status == 503 and failing(body) == {"storage"}
    assert str(tmp_path) not in str(body)  # no paths for anonymous callers


def test_database_down_fails_the_check_without_telling_its_address(app_config, tmp_path):
    # A port nothing listens on; the password must not reach the response.
    url = "postgresql+psycopg://portal:hunter2-secret@127.0.0.1:1/portal"
    down = create_app(
        Config(
            instance_path=tmp_path,
            TESTING=True,
            SQLALCHEMY_DATABASE_URI=url,
            STORAGE_URL=(tmp_path / "documents").as_uri(),
            PKI_DIR=app_config.PKI_DIR,
            SECRET_KEY="test-secret",
        )
    )

    response = down.test_client().get("/healthz")
    body = response.get_json()

    assert response.status_code == 503
    assert "database" in failing(body) and "storage" not in failing(body)
    assert "did not answer" in body["checks"]["database"]["detail"]
    assert "hunter2" not in response.get_data(as_text=True)
    assert "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.s3
def test_s3_storage_is_checked_against_its_bucket(app, client, s3_server):
    def s3(bucket: str, create: bool) -> S3Storage:
        return s3_server.storage(
            bucket,
            "portal",
            retention_days=1,
            create_bucket=create,
        )

    parts = app.extensions.setdefault("portal", {})
    jobs.fire_deadlines(app)
    parts["storage"] = s3(s3_server.new_bucket_name("health"), create=True)
    assert health(client)[0] == 200

    parts["storage"] = s3(s3_server.new_bucket_name("never-made"), create=False)
    status, body = health(client)
    assert status == 503 and failing(body) == {"storage"}
