"""Property-based tests generated from the server's own OpenAPI document (schemathesis):
valid and invalid requests for every operation, each answer checked for no 5xx and for
conformance to the document (status code, content type, body schema). Examples are bounded
so the file runs in well under a minute.

Schemathesis' lazy pytest loader (``schemathesis.pytest.from_fixture``) fails on this
pytest (it sets ``Function._nodeid``, gone in pytest 9), so each operation's strategy is
drawn with Hypothesis directly (``APIOperation.as_strategy``), the same cases and checks.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from automl.bundle import load_model
from automl.serve import create_app
from tests.serving import app_server

pytestmark = pytest.mark.slow

OPERATIONS = [("POST", "/predict"), ("POST", "/explain"), ("GET", "/health"),
              ("GET", "/schema"), ("GET", "/metrics")]
EXAMPLES = {"/predict": 60, "/explain": 20}  # the others take no input: a few suffice


@pytest.fixture(scope="module")
def api(churn_run):
    app = create_app(load_model(churn_run.model_file), max_rows=20, max_bytes=100_000)
    with app_server(app) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_the_operations_tested_are_all_the_document_has(api):
    found = {(op.ok().method.upper(), op.ok().path) for op in api.get_all_operations()}
    assert found == set(OPERATIONS)


CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if m == "POST"]  # GETs take no input


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_answer_conforms_and_no_input_gets_a_5xx(api, method, path, mode):
    operation = api[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES.get(path, 5), deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call_and_validate()
        assert response.status_code < 500, response.text

    check()
