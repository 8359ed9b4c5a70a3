"""A local SMTP server (aiosmtpd) that keeps every message it is given, for the mail tests."""
import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Received:
    """One delivered message: the envelope and the parsed mail."""

    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.recipients = list(envelope.rcpt_tos)
        self.raw = envelope.original_content or envelope.content
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)
        self.subject = str(self.message["Subject"])
        self.to = str(self.message["To"])
        self.body = self.message.get_content()


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            self.sink.messages.append(Received(envelope))
            self.sink.logins.append(session.authenticated)
        return "250 OK"


class SMTPSink:
    """Listens on 127.0.0.1:`port` until stopped; `credentials` (user, password) demands AUTH."""

    def __init__(self, port, credentials=None, ssl_context=None):
        self.messages = []
        self.logins = []
        self.lock = threading.Lock()
        kwargs = {}
        if credentials is not None:
            user, password = credentials

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
                    and auth_data.password == password.encode()
                return AuthResult(success=ok)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port,
                                     ssl_context=ssl_context, **kwargs)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for(self, predicate, timeout=30):
        """The first message for which `predicate` is true, waiting up to `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for message in self.messages:
                    if predicate(message):
                        return message
            time.sleep(0.1)
        with self.lock:
            seen = [(m.recipients, m.subject) for m in self.messages]
        raise AssertionError(f"no such mail within {timeout} s; the sink has {seen}")
