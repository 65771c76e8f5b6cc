"""The national-platform simulator, as a real process over real HTTP (docs/national-api.md)."""

import socket
import threading

import pytest

from .simulator_process import SimulatorClient, running_simulator, standard_payload

NUMBER = "5001032106180001"


@pytest.fixture(scope="module")
def national_simulator(tmp_path_factory):
    """The base URL of one simulator process for this module; terminated at the end."""
    with running_simulator(tmp_path_factory.mktemp("simulator")) as base_url:
        yield base_url


@pytest.fixture
def sim(national_simulator):
    """A client on a clean simulator: no records, no faults."""
    client = SimulatorClient(national_simulator)
    client.reset()
    return client


def stored(sim, number=NUMBER):
    return [r for r in sim.records()["records"] if r["project_number"] == number]


def test_it_stores_a_new_project(sim):
    status, _, body = sim.create(NUMBER, standard_payload(NUMBER, PrjName="渝中区某住宅"), key="k-1")

    assert status == 201
    assert body["national_id"] == f"NP-{NUMBER}" and body["version"] == 1 and body["received_at"]
    status, _, project = sim.call("GET", f"/api/v1/projects/NP-{NUMBER}")
    assert status == 200
    assert project["payload"] == standard_payload(NUMBER, PrjName="渝中区某住宅")
    assert (project["data_source"], project["data_level"], project["current_version"]) == (3, "C", 1)


def test_the_same_idempotency_key_replays_the_first_answer_and_stores_nothing_more(sim):
    first = sim.create(NUMBER, key="k-1")
    again = sim.create(NUMBER, key="k-1")

    assert (first[0], again[0]) == (201, 200)
    assert again[1]["Idempotent-Replayed"] == "true"
    assert again[2] == first[2]
    assert len(stored(sim)) == 1
    assert sim.records()["create_calls"][NUMBER] == {
        "total": 2, "stored": 1, "replayed": 1, "duplicate": 0, "rejected": 0,
    }  # fmt: skip


def test_concurrent_identical_requests_store_once(sim):
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(sim.create(NUMBER, key="k-1"))) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _, _ in answers) == [200] * 9 + [201]
    assert len({body["received_at"] for _, _, body in answers}) == 1
    assert len(stored(sim)) == 1 and sim.records()["create_calls"][NUMBER]["stored"] == 1


def test_another_key_for_the_same_project_is_a_duplicate(sim):
    sim.create(NUMBER, key="k-1")
    status, _, body = sim.create(NUMBER, key="k-2")

    assert status == 409
    assert body == {"error": "duplicate_project", "national_id": f"NP-{NUMBER}"}
    assert len(stored(sim)) == 1


def test_a_key_reused_for_a_different_request_is_refused(sim):
    sim.create(NUMBER, standard_payload(NUMBER, PrjName="甲"), key="k-1")
    status, _, body = sim.create(NUMBER, standard_payload(NUMBER, PrjName="乙"), key="k-1")

    assert status == 422 and body["error"] == "idempotency_key_reused"


def test_it_refuses_a_wrong_api_key_and_a_missing_idempotency_key(sim):
    status, _, body = sim.call(
        "POST", "/api/v1/projects", {"project_number": NUMBER}, key="k-1", api_key="wrong"
    )
    assert status == 401 and body["error"] == "unauthorized"
    assert sim.call("GET", "/_control/records", api_key="")[0] == 401

    status, _, body = sim.call("POST", "/api/v1/projects", {"project_number": NUMBER, "payload": {}})
    assert status == 400 and body["error"] == "idempotency_key_required"
    assert stored(sim) == []


def test_it_validates_the_body(sim):
    status, _, body = sim.call("POST", "/api/v1/projects", {"data_source": 1, "data_level": "C"}, key="k-1")

    assert status == 422
    assert {p["field"] for p in body["problems"]} == {"project_number", "payload", "data_source"}
    assert sim.records()["records"] == []


def test_an_update_adds_version_2_and_keeps_version_1(sim):
    sim.create(NUMBER, standard_payload(NUMBER, AllArea="100.00"), key="k-1")
    path = f"/api/v1/projects/NP-{NUMBER}"
    update = {
        "project_number": NUMBER,
        "version": 2,
        "data_source": 3,
        "payload": standard_payload(NUMBER, AllArea="120.00"),
    }

    status, _, body = sim.call("PUT", path, update, key="k-fix-1")
    replay = sim.call("PUT", path, update, key="k-fix-1")
    skipped = sim.call("PUT", path, {**update, "version": 4}, key="k-fix-2")

    assert status == 200 and body["version"] == 2
    assert replay[0] == 200 and replay[1]["Idempotent-Replayed"] == "true" and replay[2] == body
    assert skipped[0] == 409 and skipped[2]["current_version"] == 2
    status, _, project = sim.call("GET", path)
    assert project["current_version"] == 2 and project["payload"] == standard_payload(
        NUMBER, AllArea="120.00"
    )
    assert [v["version"] for v in project["versions"]] == [1, 2]
    assert sim.call("GET", f"{path}/versions/1")[2]["payload"] == standard_payload(NUMBER, AllArea="100.00")
    assert sim.call("GET", f"{path}/versions/3")[0] == 404
    assert sim.call("PUT", "/api/v1/projects/NP-nope", update, key="k-fix-3")[0] == 404


def test_an_injected_error_answers_503_before_storing(sim):
    sim.set_faults(error_rate=1.0)

    status, _, body = sim.create(NUMBER, key="k-1")

    assert status == 503 and body["error"] == "service_unavailable"
    sim.clear_faults()
    assert stored(sim) == []
    assert sim.create(NUMBER, key="k-1")[0] == 201  # nothing remembered: the retry is a first call


def test_a_timeout_stores_then_hangs_and_the_retry_is_replayed(sim):
    sim.set_faults(timeout_rate=1.0)

    with pytest.raises((TimeoutError, socket.timeout)):
        sim.create(NUMBER, key="k-1", timeout=1)

    assert len(stored(sim)) == 1  # the client heard nothing, the platform has it
    assert sim.records()["faults"]["injected"]["timeout"] == 1
    sim.clear_faults()
    status, headers, body = sim.create(NUMBER, key="k-1")
    assert status == 200 and headers["Idempotent-Replayed"] == "true"
    assert body["national_id"] == f"NP-{NUMBER}"
    assert len(stored(sim)) == 1 and stored(sim)[0]["current_version"] == 1
    assert sim.records()["create_calls"][NUMBER]["stored"] == 1


def test_a_seeded_error_rate_fails_a_share_of_calls(sim):
    sim.set_faults(error_rate=0.5, seed=7)

    statuses = [sim.create(f"50010321061800{i:02d}", key=f"k-{i}")[0] for i in range(40)]

    assert set(statuses) == {201, 503}
    assert 8 <= statuses.count(503) <= 32
    assert len(sim.records()["records"]) == statuses.count(201)


def test_faults_can_be_read_and_are_set_at_start(tmp_path):
    with running_simulator(tmp_path, latency_ms=50, error_rate=0.25) as base_url:
        status, _, faults = SimulatorClient(base_url).call("GET", "/_control/faults")
    assert status == 200
    assert (faults["latency_ms"], faults["error_rate"], faults["timeout_rate"]) == (50, 0.25, 0.0)
