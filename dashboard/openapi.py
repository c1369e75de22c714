"""The OpenAPI 3.1 document of the data API, generated from the registered endpoints.

Each endpoint registered with `dashboard.api.api_endpoint` leaves an `Operation` here: its rule,
permissions, docstring, and the pydantic models of its query string and response. apispec assembles
the document; pydantic writes the JSON Schemas (2020-12, which OpenAPI 3.1 uses as is). Nothing is
written by hand, so the document cannot drift from the code.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from apispec import APISpec
from pydantic import BaseModel, Field, TypeAdapter
from pydantic.json_schema import models_json_schema

from dashboard import __version__
from dashboard.api_errors import STORABLE_TEXT_PATTERN, ErrorResponse

SCHEMA_REF = "#/components/schemas/{model}"
# Largest id PostgreSQL's bigint holds: a larger one is unknown, never a database error.
MAX_BIGINT = 2**63 - 1

AccountId = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={"pattern": STORABLE_TEXT_PATTERN},
                                 description="A customer's id (its master account id), e.g. `ACC-00042`.")]
AlertId = Annotated[int, Field(ge=1, le=MAX_BIGINT, description="An alert's id.")]
ActionId = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={"pattern": STORABLE_TEXT_PATTERN},
                                description="A recommended action's id (`recommendation_id`).")]
# Every path variable an endpoint may use, with its type; a value that does not fit is an unknown id (404).
PATH_PARAMETERS: dict[str, TypeAdapter] = {"account_id": TypeAdapter(AccountId), "alert_id": TypeAdapter(AlertId),
                                           "action_id": TypeAdapter(ActionId)}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "A parameter is invalid, text holds a character that cannot be stored (NUL, unpaired surrogate), "
         "or a session-cookie call that changes something lacks its CSRF token.",
    401: "No valid session cookie or bearer token.",
    403: "The caller's role lacks a permission the endpoint needs (or their password must be changed first).",
    404: "Unknown, or outside the caller's data scope: the two are indistinguishable on purpose.",
    409: "The thing is no longer in a state that allows the change (an action already executed, "
         "dismissed or expired).",
    413: "The request body is larger than the API reads.",
}
ALWAYS_DOCUMENTED = (400, 401, 403)
RULE_VARIABLE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@dataclass(frozen=True)
class Operation:
    """One method of one endpoint, as the document describes it."""

    method: str
    rule: str  # the Flask rule below the prefix, e.g. /customers/<account_id>/alerts
    permissions: tuple[str, ...]
    summary: str
    description: str
    tag: str
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    media_type: str
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None  # the JSON request body's model

    @property
    def path_names(self) -> list[str]:
        return RULE_VARIABLE.findall(self.rule)

    @property
    def openapi_path(self) -> str:
        return RULE_VARIABLE.sub(r"{\1}", self.rule)

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[^A-Za-z0-9]+", "_", self.openapi_path.replace("{", "by_").replace("}", "")).strip("_")
        return f"{self.method.lower()}_{words}"


OPERATIONS: list[Operation] = []


def describe(method: str, rule: str, view: Callable, permissions: tuple[str, ...], *, tag: str,
             query: type[BaseModel] | None, response: type[BaseModel] | None, media_type: str,
             errors: Iterable[int], body: type[BaseModel] | None = None) -> Operation:
    """Record an endpoint for the document; the docstring's first line is its summary."""
    for name in RULE_VARIABLE.findall(rule):
        if name not in PATH_PARAMETERS:
            raise ValueError(f"{rule}: declare the type of <{name}> in PATH_PARAMETERS")
    doc = inspect.getdoc(view) or view.__name__
    summary, _, rest = doc.partition("\n")
    documented = (set(ALWAYS_DOCUMENTED) | set(errors) | ({404} if "<" in rule else set())
                  | ({413} if method != "GET" else set()))
    operation = Operation(method, rule, permissions, summary.strip(), rest.strip(), tag, query, response,
                          media_type, tuple(sorted(documented)), body)
    OPERATIONS.append(operation)
    return operation


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _path_parameters(names: Iterable[str]) -> list[dict[str, Any]]:
    parameters = []
    for name in names:
        schema = PATH_PARAMETERS[name].json_schema()
        description = schema.pop("description", "")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema,
                           "description": description})
    return parameters


def _component_schemas(operations: Iterable[Operation]) -> tuple[dict[type[BaseModel], dict], dict[str, Any]]:
    """The response and request body models' references and every schema they need, all under components
    (answers as they are serialised, bodies as they are validated)."""
    operations = list(operations)
    answers = {ErrorResponse, *(op.response for op in operations if op.response is not None)}
    bodies = {op.body for op in operations if op.body is not None}
    by_name = sorted([(m, "serialization") for m in answers] + [(m, "validation") for m in bodies],
                     key=lambda pair: pair[0].__name__)
    refs, definitions = models_json_schema(by_name, ref_template=SCHEMA_REF)
    return {model: ref for (model, _mode), ref in refs.items()}, definitions.get("$defs", {})


def build_document(prefix: str, operations: Iterable[Operation], *, session_cookie: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `operations`, served below `prefix`."""
    operations = list(operations)
    spec = APISpec(
        title="Client360 data API", version=__version__, openapi_version="3.1.0",
        info={"description": (
            "JSON data of Client360, scoped to the caller's data and masked as their role requires. "
            "Authenticate with `Authorization: Bearer <token>` (create one at /account/tokens) or a "
            "browser session; session calls that change something send the `X-CSRFToken` header. "
            "Every error has the shape of `ErrorResponse`.")},
        servers=[{"url": prefix}],
        security=[{"bearerAuth": []}, {"sessionCookie": []}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "An API token from /account/tokens."})
    spec.components.security_scheme("sessionCookie", {"type": "apiKey", "in": "cookie", "name": session_cookie})
    refs, definitions = _component_schemas(operations)
    for name, schema in sorted(definitions.items()):
        spec.components.schema(name, schema)
    error_ref = refs[ErrorResponse]
    for status, description in ERROR_DESCRIPTIONS.items():
        spec.components.response(f"Error{status}", {
            "description": description, "content": {"application/json": {"schema": error_ref}}})

    by_path: dict[str, dict[str, Any]] = {}
    for op in operations:
        if op.response is not None:
            success_schema: Mapping[str, Any] = refs[op.response]
        else:
            success_schema = {"type": "object"} if op.media_type == "application/json" else {"type": "string"}
        responses: dict[str, Any] = {"200": {"description": op.summary,
                                             "content": {op.media_type: {"schema": success_schema}}}}
        for status in op.errors:
            responses[str(status)] = (f"Error{status}" if status in ERROR_DESCRIPTIONS else {
                "description": "Error", "content": {"application/json": {"schema": error_ref}}})
        needs = ", ".join(f"`{p}`" for p in op.permissions)
        operation: dict[str, Any] = {
            "operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
            "description": "\n\n".join(filter(None, [op.description, f"Permissions: {needs}."])),
            "parameters": _path_parameters(op.path_names) + (_query_parameters(op.query) if op.query else []),
            "responses": responses, "x-permissions": list(op.permissions),
        }
        if op.body is not None:
            operation["requestBody"] = {"required": True, "description": inspect.getdoc(op.body) or "",
                                        "content": {"application/json": {"schema": refs[op.body]}}}
        by_path.setdefault(op.openapi_path, {})[op.method.lower()] = operation
    for path, path_operations in sorted(by_path.items()):
        spec.path(path=path, operations=path_operations)
    return spec.to_dict()
