"""Mail never hangs a request or a command: EMAIL_TIMEOUT bounds every SMTP connect, read and write."""

import smtplib
import socket
import threading
import time

import pytest
from django.core import mail
from django.core.mail import get_connection

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_the_timeout_defaults_to_ten_seconds_and_reaches_the_smtp_backend(settings):
    assert settings.EMAIL_TIMEOUT == 10.0
    assert get_connection(SMTP).timeout == 10.0
    settings.EMAIL_TIMEOUT = 2.5
    assert get_connection(SMTP).timeout == 2.5


@pytest.fixture
def silent_smtp_server():
    """Accepts connections and never sends its greeting; hangs up after five seconds."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []

    def serve():
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        accepted.append(connection)
        time.sleep(5)
        connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_silent_mail_server_fails_the_send_within_the_timeout(settings, silent_smtp_server):
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_smtp_server
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 0.3
    started = time.monotonic()
    # smtplib reports the timed-out read of the greeting as a lost connection.
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        mail.send_mail("Subject", "Body", "from@example.org", ["to@example.org"])
    assert time.monotonic() - started < 2
