"""Health, readiness, metrics, request ids, OpenAPI and docs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from rostra.logs import JsonFormatter, request_id
from tests.conftest import Reader


def test_it_reports_liveness_and_readiness(http: httpx.Client) -> None:
    assert http.get("/healthz").json()["status"] == "ok"
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


def test_it_exports_prometheus_metrics(ana: Reader, http: httpx.Client) -> None:
    ana.post("/metrics/", "counted")
    ana.page("/metrics/")
    http.get("/api/comments/999999999")
    text = http.get("/metrics").text
    assert 'rostra_http_requests_total{method="POST",route="/api/comments",status="201"}' in text
    assert 'route="/api/comments/{id}",status="404"' in text
    assert "rostra_http_request_duration_seconds_bucket" in text
    assert 'rostra_comments_posted_total{state="approved"}' in text


def test_it_gives_every_response_a_request_id(http: httpx.Client) -> None:
    generated = http.get("/healthz").headers["x-request-id"]
    assert len(generated) == 16
    echoed = http.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"]
    assert echoed == "abc123"
    # A proxy's id as Caddy ({http.request.uuid}), Envoy or Heroku make it: a UUID.
    uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert http.get("/healthz", headers={"X-Request-ID": uuid}).headers["x-request-id"] == uuid
    refused = http.get("/healthz", headers={"X-Request-ID": "bad id;<x>"})
    replaced = refused.headers["x-request-id"]
    assert replaced != "bad id;<x>" and len(replaced) == 16 and replaced.isalnum()


def test_it_serves_an_openapi_document_and_interactive_docs(http: httpx.Client) -> None:
    spec = http.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/comments", "/api/comments/{comment_id}", "/api/comments/{comment_id}/vote",
                 "/api/counts", "/api/preview", "/api/votes"):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/comments"]["post"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    docs = http.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_it_logs_json_lines_with_the_request_id() -> None:
    record = logging.LogRecord("rostra.access", logging.INFO, __file__, 1, "GET %s %d",
                               ("/x", 200), None)
    record.status = 200
    token = request_id.set("r1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "GET /x 200"
    assert line["request_id"] == "r1" and line["status"] == 200 and line["level"] == "info"


@pytest.mark.parametrize("path", ["/nope", "/api/nope"])
def test_it_answers_unknown_paths_with_problem_details(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
