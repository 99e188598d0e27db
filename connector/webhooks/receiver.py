"""The webhook receiver every marketplace shares: verify, store once, acknowledge, hand over.

Each POST carries a JSON event and a signature header: the HMAC of the *raw* body with the webhook's secret
(``WebhookScheme``: which header, which algorithm and prefix, where the event name, id and time are).  The
receiver:

- refuses bodies over ``max_body_bytes`` with 413 before reading them;
- answers 401 when the signature header is missing or does not match (constant-time comparison);
- answers 415 for a signed body that is not sent as JSON (``Content-Type: application/json``);
- answers 400 for a signed body that is not an event object, lacks the delivery id the scheme requires, or
  whose time is further from now than the scheme's replay window (an old delivery sent again);
- drops a connection whose request has not fully arrived ``request_timeout`` seconds after it was opened (or
  after the previous response), or that sends nothing for ``read_timeout`` seconds: a sender that trickles
  bytes cannot hold a connection;
- serves at most ``max_connections`` connections at once, and answers 503 to the ones beyond;
- stores accepted events in the state database (the marketplace plugin's table ``webhook_events``) under the
  event's key (its delivery id, or a digest of the event), so a redelivered event is acknowledged (200) but
  stored and handed to ``handler`` only once.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connector.jsonutil import canonical_json
from connector.sync.state import Column, PluginSchema, StateStore, Table, utcnow
from connector.webhooks.signature import check_algorithm, verify_signature

log = logging.getLogger("connector.webhooks")

DEFAULT_MAX_BODY = 256 * 1024
DEFAULT_MAX_CONNECTIONS = 32
DEFAULT_READ_TIMEOUT = 10.0  # seconds a connection may stay silent
DEFAULT_REQUEST_TIMEOUT = 30.0  # seconds to receive a whole request: request line, headers and body

#: the table each marketplace plugin declares for its accepted events (EcomLinx's migration 1 spells it out)
EVENTS_TABLE = Table("webhook_events", (Column("event_key"), Column("event"), Column("created_at", nullable=True),
                                        Column("received_at"), Column("body"),
                                        Column("deliveries", "integer", default=1),
                                        Column("processed_at", nullable=True)), key=("event_key",))

_BUSY_BODY = b'{"error": "too many connections"}'
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))


@dataclass(frozen=True)
class WebhookScheme:
    """What one marketplace's deliveries look like."""

    title: str  # the marketplace, in messages
    signature_header: str
    path: str  # the receiver's default path
    algorithm: str = "sha256"
    prefix: str = "sha256="
    event_field: str = "event"
    time_field: str = "created_at"
    id_field: str = "id"
    require_id: bool = False  # True: a delivery without its id is refused (the id is how a redelivery is known)
    tolerance: float | None = None  # seconds: a delivery whose time is further from now is refused as a replay

    def __post_init__(self) -> None:
        check_algorithm(self.algorithm)
        if self.tolerance is not None and not self.tolerance > 0:
            raise ValueError("the replay window (tolerance) must be a positive number of seconds")

    def verify(self, secret: str | bytes, body: bytes, header: str | None) -> bool:
        return verify_signature(secret, body, header, self.algorithm, self.prefix)

    def name(self, event: dict[str, Any]) -> str:
        return str(event.get(self.event_field))

    def key(self, event: dict[str, Any]) -> str:
        """What makes two deliveries the same event: its id when it has one, else the event name, its time and
        its data (compared as canonical JSON, so key order or spacing do not matter)."""
        ident = event.get(self.id_field)
        if isinstance(ident, str) and ident:
            return "id:" + ident
        text = canonical_json({"event": event.get(self.event_field), "created_at": event.get(self.time_field),
                               "data": event.get("data")})
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    def problem(self, event: Any, now: datetime) -> str | None:
        """Why a signed body is not an acceptable event (a 400), or None."""
        if not isinstance(event, dict) or not isinstance(event.get(self.event_field), str):
            return f"the body is not an {self.title} event"
        ident = event.get(self.id_field)
        if self.require_id and not (isinstance(ident, str) and ident):
            return f"the event has no '{self.id_field}' (its delivery id)"
        if self.tolerance is not None:
            moment = event_time(event.get(self.time_field))
            if moment is None:
                return f"the event has no '{self.time_field}' time (ISO 8601)"
            if abs((now - moment).total_seconds()) > self.tolerance:
                return (f"the event's time {event.get(self.time_field)} is more than {self.tolerance:.0f} s from now:"
                        " an old delivery sent again")
        return None


def event_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    new: bool  # False: this event was already stored (a redelivery)


class EventStore:
    """Accepted events in the state database (``schema``: the plugin's tables, one of them ``webhook_events``);
    safe to use from the receiver's threads."""

    def __init__(self, state_path: str | Path, schema: PluginSchema, scheme: WebhookScheme) -> None:
        self.scheme = scheme
        # without the sync lock: the receiver runs beside syncs
        self._state = StateStore.open(state_path, lock=False)
        self._tables = self._state.tables(schema)

    def add(self, event: dict[str, Any], raw: bytes) -> Stored:
        key = self.scheme.key(event)
        created = event.get(self.scheme.time_field)
        row = {"event_key": key, "event": self.scheme.name(event),
               "created_at": created if created is None else str(created),
               "received_at": utcnow(), "body": raw.decode("utf-8")}
        with self._state.atomic():
            new = self._tables.put("webhook_events", [row], on_conflict="ignore") == 1
            if not new:
                self._tables.update("webhook_events", {"event_key": key}, increment={"deliveries": 1})
        return Stored(key, new)

    def mark_processed(self, key: str) -> None:
        self._tables.update("webhook_events", {"event_key": key}, {"processed_at": utcnow()})

    def remove(self, key: str) -> None:
        self._tables.delete("webhook_events", {"event_key": key})

    def events(self) -> list[dict[str, Any]]:
        return self._tables.rows("webhook_events", order_by=("received_at", "event_key"))

    def close(self) -> None:
        self._state.close()


Handler = Callable[[dict[str, Any]], None]


class WebhookReceiver:
    """``ThreadingHTTPServer`` on ``host:port`` answering POSTs to ``path`` (default: the scheme's);
    ``port=0`` picks a free port.  The deliveries' scheme is the store's."""

    def __init__(self, secret: str, store: EventStore, *, host: str = "127.0.0.1", port: int = 0,
                 path: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY,
                 handler: Handler | None = None, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 read_timeout: float = DEFAULT_READ_TIMEOUT, request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        if not secret:
            raise ValueError("a webhook receiver needs the webhook secret")
        if max_connections < 1 or read_timeout <= 0 or request_timeout <= 0:
            raise ValueError("connection bounds must be positive")
        self.secret, self.store, self.scheme = secret, store, store.scheme
        self.path = path or self.scheme.path
        self.max_body_bytes, self.handler = max_body_bytes, handler
        self.counts = {"accepted": 0, "duplicate": 0, "refused": 0, "busy": 0, "dropped": 0}
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "connector-webhooks"
            timeout = read_timeout

            def setup(self) -> None:
                super().setup()
                self.rfile.close()
                self._reader = _DeadlineReader(self.connection, read_timeout)
                self.rfile = io.BufferedReader(self._reader)

            def handle_one_request(self) -> None:
                self._reader.start(request_timeout)  # the time starts while waiting for the request line
                super().handle_one_request()

            def do_POST(self) -> None:
                status, body = receiver.handle(self.path, dict(self.headers.items()), self.rfile)
                self.connection.settimeout(read_timeout)  # the answer is not bound by the request's deadline
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                # one delivery per connection: an idle kept-alive connection would hold one of the slots
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)

            def log_error(self, format: str, *args: Any) -> None:
                if args and isinstance(args[-1], TimeoutError):
                    receiver.counts["dropped"] += 1
                    log.info("webhook connection from %s dropped: the request did not arrive in time",
                             self.client_address[0])
                else:
                    super().log_error(format, *args)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook %s", format % args)

        self._httpd = _BoundedServer((host, port), _Handler, max_connections, self.counts)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def handle(self, path: str, headers: dict[str, str], rfile: Any) -> tuple[int, dict[str, Any]]:
        """Decide on one delivery: (HTTP status, JSON answer)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if path.split("?", 1)[0] != self.path:
            return 404, {"error": "unknown path"}
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            return 411, {"error": "a Content-Length is required"}
        try:
            length = int(lowered.get("content-length", ""))
        except ValueError:
            return 411, {"error": "a Content-Length is required"}
        if length < 0:
            return 411, {"error": "a Content-Length is required"}
        if length > self.max_body_bytes:
            self.counts["refused"] += 1
            return 413, {"error": f"body over {self.max_body_bytes} bytes"}
        raw = rfile.read(length) if length else b""
        header = self.scheme.signature_header
        if not self.scheme.verify(self.secret, raw, lowered.get(header.lower())):
            self.counts["refused"] += 1
            log.warning("%s webhook refused: missing or bad %s", self.scheme.title, header)
            return 401, {"error": "missing or invalid signature"}
        if not is_json(lowered.get("content-type")):
            self.counts["refused"] += 1
            return 415, {"error": "events must be sent as JSON (Content-Type: application/json)"}
        try:
            event = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 400, {"error": "the body is not JSON"}
        problem = self.scheme.problem(event, datetime.now(UTC))
        if problem is not None:
            self.counts["refused"] += 1
            log.warning("%s webhook refused: %s", self.scheme.title, problem)
            return 400, {"error": problem}
        stored = self.store.add(event, raw)
        if not stored.new:
            self.counts["duplicate"] += 1
            return 200, {"ok": True, "duplicate": True}
        if self.handler is not None:
            try:
                self.handler(event)
            except Exception:
                log.exception("webhook handler failed on %s", self.scheme.name(event))
                self.store.remove(stored.key)  # not processed: a redelivery gets its chance
                return 500, {"error": "the event could not be processed"}
        self.counts["accepted"] += 1
        self.store.mark_processed(stored.key)
        return 200, {"ok": True, "duplicate": False}

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.scheme.title.lower()}-webhooks", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def is_json(content_type: str | None) -> bool:
    """True for ``application/json`` (parameters such as ``charset`` allowed) and ``application/*+json``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class _DeadlineReader(io.RawIOBase):
    """A socket read so that no read waits past the request's deadline: a per-read timeout alone lets a
    sender that trickles one byte at a time hold the connection for ever."""

    def __init__(self, sock: socket.socket, read_timeout: float) -> None:
        self.sock, self.read_timeout = sock, read_timeout
        self.deadline = math.inf

    def start(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request took too long to arrive")
        self.sock.settimeout(min(self.read_timeout, remaining))
        return self.sock.recv_into(buffer)


class _BoundedServer(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once: the ones beyond get a 503 at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int,
                 counts: dict[str, int]) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self._counts = counts
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._counts["busy"] += 1
            log.warning("webhook connection from %s refused: too many connections", client_address[0])
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        try:
            request.settimeout(1.0)
            request.sendall(_BUSY)
            request.setblocking(False)
            request.recv(65536)  # what the sender already sent: closing over unread bytes resets the connection
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the sender went away mid-request
            log.info("webhook connection from %s ended abruptly: %r", client_address[0], exc)
        else:
            log.error("webhook request from %s failed", client_address[0], exc_info=True)
