"""The SMS plugin's HTTP client against real local servers: kept-alive connections, answers by
Content-Length, chunked or up to the close, and no header injection."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from carectl.outbox import http


class Server:
    """Answers every POST with the request body reversed; counts connections."""

    def __init__(self, version: str, chunked: bool = False) -> None:
        self.connections = 0
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = version

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                answer = body[::-1]
                self.send_response(201)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for part in (answer[:3], answer[3:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                elif version == "HTTP/1.1":
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                else:  # HTTP/1.0: the body runs to the close
                    self.end_headers()
                    self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/send?key=a%20b"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def post_all(url: str, bodies: list[bytes]) -> list[http.Response]:
    async def main() -> list[http.Response]:
        try:
            pool = http.pool(url)
            return [await pool.post(url, b, {"X-Token": "t"}, 5.0) for b in bodies]
        finally:
            await http.close_all()

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("version", "chunked", "connections"),
    [("HTTP/1.1", False, 1), ("HTTP/1.1", True, 1), ("HTTP/1.0", False, 4)],
)
def test_answers_are_read_whole_and_connections_kept_when_allowed(version, chunked, connections):
    server = Server(version, chunked)
    try:
        answers = post_all(server.url, [b"hello-%d" % i for i in range(4)])
    finally:
        server.close()
    assert [a.body for a in answers] == [b"%d-olleh" % i for i in range(4)]
    assert {(a.status, a.reason) for a in answers} == {(201, "Created")}
    assert server.connections == connections
    assert {r["path"] for r in server.requests} == {"/v1/send?key=a%20b"}
    assert server.requests[0]["headers"]["X-Token"] == "t"


def test_a_header_with_a_line_break_is_refused_before_sending():
    server = Server("HTTP/1.1")

    async def main() -> None:
        with pytest.raises(ValueError, match="line break"):
            await http.pool(server.url).post(server.url, b"x", {"X-Token": "t\r\nX-Evil: 1"}, 5.0)
        await http.close_all()

    try:
        asyncio.run(main())
    finally:
        server.close()
    assert server.requests == []


def test_a_refused_connection_is_an_http_error():
    async def main() -> None:
        url = "http://127.0.0.1:9/send"  # discard port: nothing listens
        with pytest.raises(http.HttpError):
            await http.pool(url).post(url, b"x", {}, 5.0)
        await http.close_all()

    asyncio.run(main())
