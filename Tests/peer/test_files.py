"""`serve --files-dir`: large downloads stream fully, failing uploads are answered without
hurting other stations, and the folder never exposes the store, keys, dot-files or symlinks."""
import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import websockets

from conftest import BINARY


def upload_path(evctl, identity="CP-1", kind="upload", name=None):
    """Opens an upload (or firmware) path for a station, as `station diagnostics --upload` does."""
    import secrets
    token = secrets.token_hex(16)
    evctl.sql("INSERT INTO file_grants (token, station_id, kind, name, created_at, expires_at) "
              "SELECT ?, id, ?, ?, '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z' FROM stations "
              "WHERE identity = ?", (token, kind, name, identity))
    return f"http://127.0.0.1:{evctl.port}/files/{'u' if kind == 'upload' else 'f'}/{token}/"


def heartbeat_loop(evctl, identity, seconds):
    """Sends heartbeats for `seconds`; returns (sent, answered)."""
    async def scenario():
        sent = answered = 0
        async with websockets.connect(evctl.url(identity), subprotocols=["ocpp1.6"],
                                      open_timeout=10) as ws:
            deadline = time.time() + seconds
            while time.time() < deadline:
                sent += 1
                await ws.send(json.dumps([2, f"hb-{sent}", "Heartbeat", {}]))
                reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                if reply[0] == 3 and reply[1] == f"hb-{sent}":
                    answered += 1
                await asyncio.sleep(0.02)
        return sent, answered
    return scenario()


def test_a_200_mib_firmware_image_is_delivered_whole_to_a_slow_reader(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    files.mkdir()
    image = files / "big.bin"
    size = 200 << 20
    with open(image, "wb") as f:  # sparse, with marks so that the hash checks placement
        f.truncate(size)
        for offset in (0, 9 << 20, 100 << 20, size - 7):
            f.seek(offset)
            f.write(b"evctl-" + str(offset).encode()[:1])
    expected = hashlib.sha256()
    with open(image, "rb") as f:
        while chunk := f.read(1 << 20):
            expected.update(chunk)
    evctl.start("--files-dir", str(files))
    got = hashlib.sha256()
    count = 0
    url = upload_path(evctl, kind="firmware", name="big.bin") + "big.bin"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == size
        time.sleep(1.5)  # let serve run far ahead of us: the socket buffers fill up
        while chunk := response.read(1 << 20):
            got.update(chunk)
            count += len(chunk)
            if count < (24 << 20):
                time.sleep(0.01)  # a slow start, as a station writing to flash
    assert count == size
    assert got.hexdigest() == expected.hexdigest()


def test_a_failing_upload_is_answered_and_other_stations_keep_their_heartbeats(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    (files / "uploads").mkdir(parents=True)
    (files / "uploads" / "CP-1").write_text("a file where the station's folder should be\n")
    evctl.start("--files-dir", str(files))

    def upload(index):
        request = urllib.request.Request(
            upload_path(evctl) + f"diag-{index}.zip", data=b"PK" * 50_000, method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    async def scenario():
        beats = asyncio.create_task(heartbeat_loop(evctl, "CP-2", 2.0))
        await asyncio.sleep(0.2)
        statuses = []
        for index in range(20):
            statuses.append(await asyncio.to_thread(upload, index))
        return statuses, await beats

    statuses, (sent, answered) = asyncio.run(scenario())
    assert statuses == [500] * 20
    assert sent > 0 and answered == sent
    _, err = evctl.stop()
    assert "upload from CP-1 not stored" in err


def refused(evctl, folder):
    return subprocess.run(
        [BINARY, "--db", evctl.db, "serve", "--listen", "127.0.0.1:0", "--files-dir", str(folder)],
        capture_output=True, text=True, timeout=30, env=evctl.env)


def sqlite_database_head(evctl, tmp_path, size):
    """The first bytes of the SQLite store file, or on PostgreSQL of another SQLite database."""
    path = evctl.db
    if evctl.on_postgres:
        path = str(tmp_path / "other.db")
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (x)")
        db.close()
    with open(path, "rb") as f:
        return f.read(size)


@pytest.mark.sqlite_only("the folder of the SQLite store file")
def test_files_dir_refuses_the_folder_holding_the_store(evctl, tmp_path):
    evctl.stop()
    result = refused(evctl, tmp_path)
    assert result.returncode == 64, result.stderr
    assert "evctl.db" in result.stderr and "--files-dir" in result.stderr


def test_files_dir_refuses_a_folder_holding_a_key_or_a_database(evctl, tmp_path):
    evctl.stop()
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    result = refused(evctl, keys)
    assert result.returncode == 64, result.stderr
    assert "server.pem" in result.stderr
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "backup.bin").write_bytes(sqlite_database_head(evctl, tmp_path, 8192))
    result = refused(evctl, copy)
    assert result.returncode == 64 and "SQLite database" in result.stderr, result.stderr


def test_files_dir_serves_only_the_published_set(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    files.mkdir()
    (files / "fw.bin").write_bytes(b"firmware")
    (files / ".hidden").write_bytes(b"secret")
    (files / "sub").mkdir()
    (files / "sub" / "inner.bin").write_bytes(b"inner")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside\n")
    os.symlink(outside, files / "out.bin")
    os.symlink(files / "fw.bin", files / "alias.bin")
    evctl.start("--files-dir", str(files), "--public-firmware")

    def get(name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{evctl.port}/files/{name}", timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, b""

    (files / "late.bin").write_bytes(sqlite_database_head(evctl, tmp_path, 4096))  # a store copy, after start
    assert get("late.bin")[0] == 404
    assert get("fw.bin") == (200, b"firmware")
    assert get("alias.bin") == (200, b"firmware")
    for name in (".hidden", "out.bin", "sub", "sub/inner.bin", "sub%2Finner.bin", "uploads",
                 "..%2Fevctl.db", "%2E%2E%2Foutside.txt"):
        assert get(name)[0] == 404, name
    _, err = evctl.stop()
    assert "publishing 2 files" in err and "alias.bin, fw.bin" in err


def test_a_full_disk_answers_507_and_the_next_upload_fits(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    uploads = files / "uploads"
    uploads.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(uploads)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        evctl.start("--files-dir", str(files))

        def put(name, size, chunked=False):
            data = b"L" * size
            request = urllib.request.Request(
                upload_path(evctl) + name, data=iter([data]) if chunked else data, method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        # Refused before a byte is written: the file system lacks the room (with its reserve);
        # the body is read and dropped, so the client gets the answer, not a reset.
        assert put("huge.log", 8 << 20) == 507
        assert not (uploads / "CP-1" / "huge.log").exists()
        # A chunked upload announces no size: it needs room for the largest one (64 MiB).
        assert put("chunked.log", 1000, chunked=True) == 507
        assert put("small.log", 1000) == 201
        assert (uploads / "CP-1" / "small.log").stat().st_size == 1000
        _, err = evctl.stop()
        assert "upload from CP-1 refused" in err
    finally:
        evctl.stop()
        subprocess.run(["umount", str(uploads)], capture_output=True)
