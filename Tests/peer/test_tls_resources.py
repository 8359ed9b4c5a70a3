"""What serve spends per TLS connection (issue 12, the cold-connect and idle-memory goals).

No timing or memory is asserted here (Benchmarks/tls.sh measures them); these tests pin the
behaviour the savings come from.
"""
import base64
import os
import socket

from test_tls import client_context, tls_serve  # noqa: F401  (tls_serve is a fixture)


def upgrade_over_tls(server, identity, context):
    """One WebSocket upgrade over TLS 1.3, read to its answer; returns the TLS socket's session."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /ocpp/{identity} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
            tls.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = tls.recv(4096)
                assert chunk, f"closed after {answer!r}"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 101"), answer
            # A NewSessionTicket would have arrived before the answer (the server sends it right
            # after the handshake) and been taken in by the reads above.
            return tls.session


def test_tls_1_3_handshakes_send_no_session_tickets(tls_serve):  # noqa: F811
    # serve keeps no session cache and resumes nothing: each TLS 1.3 ticket was work (a session
    # copy, an encryption, a record) on both sides of every cold connect, for nothing.
    session = upgrade_over_tls(tls_serve, "CP-1", client_context(tls_serve.ca))
    assert session is not None
    assert not session.has_ticket
