"""One time budget for all the outside calls an operation makes: Crossref, PubMed, the retraction sweep.

An operation (a web request, one input of a command, one page of the sweep) opens a budget; every
``references.http.get`` inside waits at most what is left of it, and the retries, ``Retry-After`` waits
and rate-limiter waits of the clients are never longer than what is left. However many authorities one
web request asks, it answers before the worker's timeout, with the clients' "unavailable" message.

Budgets nest, and an inner one never outlasts the outer: a budget per DOI inside a request's budget ends
with the request's. A budget carries a description of what it covers ("this request", "this input
(60 s, CROSSREF_COMMAND_BUDGET)"), so the message for a spent budget names the budget that ran out.
"""

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

# Less than this left of a budget is not worth a call: it could only time out.
MIN_CALL_SECONDS = 0.25
REQUEST = "this request"

# Tests replace this so budgets cost no time.
monotonic = time.monotonic


@dataclass(frozen=True)
class Budget:
    deadline: float
    description: str

    def remaining(self):
        return self.deadline - monotonic()

    @property
    def spent_message(self):
        return f"time budget for {self.description} spent; try again"


_current = contextvars.ContextVar("outside_call_budget", default=None)


@contextmanager
def budget(seconds, *, description=REQUEST):
    """Outside calls inside spend at most ``seconds`` in all, retries and waits included; yields the Budget.

    When an enclosing budget ends first, it is the one in force, and its description the one messages use.
    """
    own = Budget(monotonic() + max(float(seconds), 0.0), description)
    outer = _current.get()
    token = _current.set(outer if outer is not None and outer.deadline <= own.deadline else own)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current():
    """The budget in force, or None outside any."""
    return _current.get()


def remaining():
    """Seconds left of the budget in force, or None outside any."""
    current_budget = _current.get()
    return None if current_budget is None else current_budget.remaining()


def spent_message():
    current_budget = _current.get()
    return current_budget.spent_message if current_budget is not None else "time budget spent; try again"


def may_wait(seconds):
    """Whether waiting ``seconds`` still leaves time for a call within the budget (always, outside any)."""
    left = remaining()
    return left is None or seconds + MIN_CALL_SECONDS <= left


def command_budget(what):
    """A command's budget for one unit of its work (one input, one reference, one page): CROSSREF_COMMAND_BUDGET."""
    seconds = settings.CROSSREF_COMMAND_BUDGET
    return budget(seconds, description=f"{what} ({seconds:g} s, CROSSREF_COMMAND_BUDGET)")


class RequestBudgetMiddleware:
    """Every web request's outside calls (Crossref and PubMed alike) share one budget, CROSSREF_REQUEST_BUDGET,
    so none outlives the worker's timeout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # What ``budget`` does, without a generator-based context manager's cost on every request.
        own = Budget(monotonic() + max(float(settings.CROSSREF_REQUEST_BUDGET), 0.0), REQUEST)
        outer = _current.get()
        token = _current.set(outer if outer is not None and outer.deadline <= own.deadline else own)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
