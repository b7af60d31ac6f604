"""The GitHub double itself: when a test ends, so does everything its double was doing.

A handler thread that outlived its test once slept out a 30-second fault delay, then answered a
specctl process killed long before; the standard server printed that BrokenPipeError (framed in
dashes) into the stderr that a later test, test_hostile's, was reading: a flaky failure."""

import socket
import threading
import time

import httpx

from conftest import ORG, TOKEN
from ghdouble import GitHubDouble

CREATE = (
    f"POST /orgs/{ORG}/repos HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nAuthorization: Bearer {TOKEN}\r\n"
    "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n" + '{"name": "acme"}'
).encode()


def double_threads(before):
    return [t for t in threading.enumerate() if t not in before]


def test_stop_ends_a_handler_sleeping_in_a_fault_delay_and_it_answers_nothing(capsys):
    before = set(threading.enumerate())
    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "admin")
        double.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=3600)
        client = socket.create_connection(("127.0.0.1", int(double.url.rsplit(":", 1)[1])))
        client.sendall(CREATE)
        deadline = time.monotonic() + 60
        while not double.created and time.monotonic() < deadline:
            time.sleep(0.01)
        assert double.created == [f"{ORG}/acme"]  # the handler is now in its delay
        client.close()  # the client gives up, as a killed specctl does
    assert double_threads(before) == []
    assert capsys.readouterr().err == ""


def test_stop_ends_a_handler_waiting_on_a_kept_alive_connection():
    before = set(threading.enumerate())
    client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with GitHubDouble() as double:
            double.add_token(TOKEN, "admin")
            assert client.get(f"{double.url}/user").status_code == 200  # the connection stays open
        assert double_threads(before) == []
    finally:
        client.close()
