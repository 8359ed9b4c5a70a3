"""The file service is closed (issue 12 item 7): uploads only through the unguessable, expiring
path of an open request, with the station's credentials where it has them; chunked uploads
streamed to disk with a size cap; firmware only through its update's path unless
--public-firmware; over TLS when TLS is on."""
import base64
import hashlib
import http.client
import os
import ssl

import pytest

from conftest import Evctl, free_port
from test_files import upload_path
from test_tls import make_ca, make_server_cert, wait_for_port

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def file_serve(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    files = tmp_path / "files"
    files.mkdir()
    (files / "fw.bin").write_bytes(b"firmware image")
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "create", "CP-1", "--name", "open", "--security-profile", "0")
    server.run("station", "create", "CP-2", "--name", "two", "--security-profile", "2",
               "--password-stdin", stdin=KEY + "\n")
    server.tls_port = free_port()
    server.ca = ca
    server.files = files
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", cert, "--tls-key", key,
                 "--files-dir", str(files))
    wait_for_port(server.tls_port)
    yield server
    server.stop()


def request(server, method, path, body=b"", headers=None, tls=False, chunks=None):
    if tls:
        context = ssl.create_default_context(cafile=server.ca)
        connection = http.client.HTTPSConnection("localhost", server.tls_port, context=context, timeout=60)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        if chunks is not None:
            connection.request(method, path, body=iter(chunks), headers=headers or {}, encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except (ConnectionResetError, BrokenPipeError):
        return "reset", b""
    finally:
        connection.close()


def path_of(url):
    return "/" + url.split("/", 3)[3]


def test_uploads_need_an_open_request(file_serve):
    assert request(file_serve, "PUT", "/files/uploads/CP-1/x.log", b"x")[0] == 404
    assert request(file_serve, "PUT", "/files/u/0123456789abcdef0123456789abcdef/x.log", b"x")[0] == 404
    firmware = path_of(upload_path(file_serve, kind="firmware", name="fw.bin"))
    assert request(file_serve, "PUT", firmware + "x.log", b"x")[0] == 404  # a firmware path takes no upload
    upload = path_of(upload_path(file_serve))
    assert request(file_serve, "PUT", upload + "diag.log", b"diagnostics")[0] == 201
    assert request(file_serve, "PUT", upload + "again.log", b"x")[0] == 404  # closed by its upload
    assert (file_serve.files / "uploads" / "CP-1" / "diag.log").read_bytes() == b"diagnostics"
    assert not os.path.exists(file_serve.files / "uploads" / "CP-1" / "again.log")


def test_expired_paths_are_closed(file_serve):
    upload = path_of(upload_path(file_serve))
    file_serve.sql("UPDATE file_grants SET expires_at = '2020-01-01T00:00:00Z'")
    assert request(file_serve, "PUT", upload + "late.log", b"x")[0] == 404


def test_firmware_only_through_its_path(file_serve):
    assert request(file_serve, "GET", "/files/fw.bin")[0] == 404
    firmware = path_of(upload_path(file_serve, kind="firmware", name="fw.bin"))
    assert request(file_serve, "GET", firmware + "fw.bin") == (200, b"firmware image")
    assert request(file_serve, "GET", firmware + "other.bin")[0] == 404


def test_chunked_uploads_are_streamed_and_oversize_ones_refused(file_serve):
    upload = path_of(upload_path(file_serve))
    piece = os.urandom(1 << 20)
    status, _ = request(file_serve, "PUT", upload + "big.bin", chunks=[piece] * 5)
    assert status == 201
    stored = (file_serve.files / "uploads" / "CP-1" / "big.bin").read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(piece * 5).digest()
    too_long = path_of(upload_path(file_serve))
    assert request(file_serve, "PUT", too_long + "x.bin", headers={"Content-Length": str((64 << 20) + 1)})[0] == 413
    status, _ = request(file_serve, "PUT", too_long + "over.bin", chunks=[piece] * 65)
    assert status in (413, "reset")  # answered once the cap is passed; the client may still be sending
    assert not os.path.exists(file_serve.files / "uploads" / "CP-1" / "over.bin")


def test_a_profile_2_station_uploads_over_tls_with_its_key(file_serve):
    upload = path_of(upload_path(file_serve, identity="CP-2"))
    auth = {"Authorization": "Basic " + base64.b64encode(f"CP-2:{KEY}".encode()).decode()}
    assert request(file_serve, "PUT", upload + "d.log", b"x", headers=auth)[0] == 403  # plain: downgrade
    assert request(file_serve, "PUT", upload + "d.log", b"x", tls=True)[0] == 401
    assert request(file_serve, "PUT", upload + "d.log", b"secure", headers=auth, tls=True)[0] == 201
    assert (file_serve.files / "uploads" / "CP-2" / "d.log").read_bytes() == b"secure"
    url = file_serve.sql("SELECT value FROM settings WHERE key = 'public_url'")[0][0]
    assert url.startswith("https://") and url.endswith(f":{file_serve.tls_port}")


def test_simulated_profile_2_station_fetches_firmware_and_uploads_over_https(file_serve, tmp_path):
    import subprocess
    import time
    from conftest import BINARY
    image = tmp_path / "fw-3.0.bin"
    image.write_bytes(b"\x01image\xfe" * 500)
    file_serve.sql("UPDATE settings SET value = ? WHERE key = 'public_url'", (f"https://localhost:{file_serve.tls_port}",))
    sim = subprocess.Popen(
        [BINARY, "simulate", "--url", f"wss://localhost:{file_serve.tls_port}/ocpp", "--identity", "CP-2",
         "--tls-ca", file_serve.ca, "--password-stdin", "--speed", "10"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=file_serve.env)
    sim.stdin.write(KEY + "\n")
    sim.stdin.close()
    sim.stdin = None
    uploads = file_serve.files / "uploads" / "CP-2"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if file_serve.sql("SELECT connected FROM stations WHERE identity = 'CP-2'")[0][0]:
                break
            time.sleep(0.2)
        update = file_serve.run("station", "firmware", "update", "CP-2", "--file", str(image), check=False)
        assert update.returncode == 0, update.stderr
        diagnostics = file_serve.run("station", "diagnostics", "CP-2", "--upload", check=False)
        assert diagnostics.returncode == 0, diagnostics.stderr
        deadline = time.time() + 60
        while time.time() < deadline and not (uploads.exists() and list(uploads.glob("*"))):
            time.sleep(0.2)
        assert "identity: CP-2" in next(uploads.glob("*")).read_text()
    finally:
        sim.terminate()
        out, err = sim.communicate(timeout=60)
    assert "firmware downloaded: 3500 bytes from https://localhost" in out, out + err
