"""Schemathesis hooks of the contract fuzzer (loaded through SCHEMATHESIS_HOOKS by fuzz.py).

An administrator's revoke-sessions and role change act on the user named in the path. When
the fuzzer draws the id of a user the run signs in as (the customer, the admin), the call
goes to the throwaway user instead, so the run's own session survives; every other id,
valid or not, reaches the server as drawn.
"""

import os

import schemathesis

SESSION_ENDING = {"/api/admin/users/{id}/revoke-sessions", "/api/admin/users/{id}/roles"}
PROTECTED = set(os.environ["MALL_FUZZ_PROTECTED_IDS"].split(","))
VICTIM = int(os.environ["MALL_FUZZ_VICTIM_ID"])


@schemathesis.hook("before_call")
def spare_the_runs_own_sessions(context, case, kwargs):
    if case.operation.path not in SESSION_ENDING or not case.path_parameters:
        return
    drawn = case.path_parameters.get("id")
    if str(drawn) in PROTECTED:
        case.path_parameters["id"] = VICTIM


@schemathesis.hook("before_call")
def headers_as_text(context, case, kwargs):
    """The stateful phase's link inference can take a resource's integer `id` for the
    `X-Trace-Id` header (its name ends in "Id"), and the HTTP client then refuses to send a
    header that is not text. Sent as text, it is a header value like any other (the mall
    replaces a trace id that is not 32 lowercase hex characters)."""
    if case.headers:
        for name, value in list(case.headers.items()):
            if not isinstance(value, (str, bytes)):
                case.headers[name] = str(value)
