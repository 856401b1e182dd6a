"""A security log: sign-ins, failed sign-ins, lockouts and refused requests, on the "psychly.auth" logger.

Receivers are connected by PsychlyConfig.ready(), so every process (web, commands)
logs the same way. ``permission_denied`` is the site's 403 handler and
``csrf_failure`` its CSRF_FAILURE_VIEW: both log, then answer as Django would.
Passwords are never logged; a failed sign-in logs the username that was tried.
"""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.views import csrf, defaults

from psychly.client_ip import client_ip

logger = logging.getLogger("psychly.auth")


def client_address(request):
    """The address django-axes also keys lockouts on (psychly.client_ip: the client behind trusted proxies)."""
    if request is None:
        return "-"
    return client_ip(request) or "-"


def _who(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user={user.get_username()!r} id={user.pk}"
    return "user=anonymous"


def log_sign_in(sender, request, user, **kwargs):
    logger.info("sign-in: user=%r id=%s from %s", user.get_username(), user.pk, client_address(request))


def log_sign_out(sender, request, user, **kwargs):
    if user is not None:
        logger.info("sign-out: user=%r id=%s from %s", user.get_username(), user.pk, client_address(request))


def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django already replaces the password in ``credentials``; only the username is kept anyway.
    username = credentials.get("username", "")
    logger.warning("failed sign-in: username=%r from %s", username, client_address(request))


def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    logger.warning("sign-in locked out: username=%r from %s", username, ip_address or client_address(request))


def connect():
    """Connect the receivers (idempotent: dispatch_uid)."""
    from axes.signals import user_locked_out

    user_logged_in.connect(log_sign_in, dispatch_uid="psychly.auth.sign_in")
    user_logged_out.connect(log_sign_out, dispatch_uid="psychly.auth.sign_out")
    user_login_failed.connect(log_failed_sign_in, dispatch_uid="psychly.auth.failed")
    user_locked_out.connect(log_lockout, dispatch_uid="psychly.auth.locked_out")


def permission_denied(request, exception):
    """handler403: log who was refused what, then Django's own 403 page (templates/403.html if there is one)."""
    logger.warning(
        "refused: %s %s %s from %s: %s", _who(request), request.method, request.path, client_address(request),
        exception or "permission denied",
    )
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: log the refusal, then Django's own CSRF 403 page."""
    logger.warning(
        "refused (CSRF): %s %s %s from %s: %s", _who(request), request.method, request.path,
        client_address(request), reason,
    )
    return csrf.csrf_failure(request, reason=reason)
