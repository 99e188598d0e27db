"""A small stateful HTTP server on loopback that marketplace sandboxes build on.

The shape follows moto / stripe-mock: state (``SandboxStore``), an HTTP layer (this module) and routes
(registered by a subclass).  The base knows nothing about any marketplace: subclasses register routes, say
how errors look (``error_response``), authenticate and rate-limit (``before_handle``) and dump their state.

Everything a test needs to drive a scenario is under ``/__sandbox/`` (no auth, never logged, never faulted):

- ``GET  /__sandbox/requests[?since=<id>]``  the request log (method, path, status, timestamp, ...)
- ``POST /__sandbox/reset``                  wipe state, log, pending faults and rate-limit counters
- ``POST /__sandbox/faults``                 enqueue injected faults; ``GET`` lists, ``DELETE`` clears them.
  Kinds: ``status`` (answer with that status), ``drop`` (close without doing anything), ``delay`` (answer late),
  ``cut`` (do the request, then close the connection part way through the answer: ``part`` ``headers`` (in a
  header's name), ``header-value`` (in a header's value), ``header-lines`` (after the status line and a whole
  header, before the others), ``body`` (half of it) or ``body-unframed`` (half of it, the headers saying no
  length: framed by the close, as a proxy that re-frames answers sends it), as a proxy or a network that fails at
  the worst moment)
- ``GET  /__sandbox/state``                  the sandbox's state as JSON
- ``POST /__sandbox/seed``                   load raw state, bypassing API validation (if the sandbox has it)
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, unquote, urlsplit

from connector.sandbox.ratelimit import RateLimiter, Refusal
from connector.sandbox.store import SandboxStore
from connector.sandbox.validation import Rejected

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/__sandbox"
FAULT_KINDS = ("status", "drop", "delay", "cut")
CUT_PARTS = ("headers", "header-value", "header-lines", "body", "body-unframed")


class InvalidJSONError(ValueError):
    """The request body is not valid JSON (the subclass decides what the 400 looks like)."""


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query_string: str
    headers: Message
    body: bytes
    client_ip: str
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route, decoded
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def bearer(self) -> str | None:
        """The token of ``Authorization: Bearer <token>``, or ``None``."""
        scheme, _, token = (self.header("Authorization") or "").strip().partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def json(self) -> Any:
        """The body parsed as JSON; raises ``InvalidJSONError`` (NaN and Infinity are not JSON)."""
        if not self._parsed:
            self._json = parse_json(self.body)
            self._parsed = True
        return self._json


def parse_json(body: bytes) -> Any:
    def reject(constant: str) -> Any:
        raise InvalidJSONError(f"{constant} is not valid JSON")

    if not body.strip():
        raise InvalidJSONError("the request body is empty")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=reject)
    except UnicodeDecodeError as exc:
        raise InvalidJSONError("the request body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InvalidJSONError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


@dataclass
class Response:
    """``body`` is JSON-serialisable, or ``bytes`` sent verbatim (as JSON), or ``None`` for no body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class CutAnswer:
    """A request done whose answer the connection loses part way (a ``cut`` fault): ``part`` says where."""

    response: Response
    part: str


class HTTPError(Exception):
    """Raise from a handler to answer with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    op_class: str | None = None  # rate-limit class, also recorded in the request log


@dataclass
class Fault:
    kind: str
    method: str | None = None  # None: any method
    path: str = ".*"  # searched (re.search) in the request path
    status: int | None = None
    retry_after: int | float | str | None = None
    count: int = 1
    delay: float = 0.0
    body: Any = None
    part: str = "body"  # a "cut": where the answer stops
    id: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "method": self.method, "path": self.path,
                "status": self.status, "retry_after": self.retry_after, "count": self.count,
                "delay": self.delay, "body": self.body, "part": self.part}


def parse_fault(spec: Any) -> Fault:
    """Validate an admin fault spec; raises ``ValueError`` with a readable reason."""
    if not isinstance(spec, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(spec) - {"kind", "method", "path", "status", "retry_after", "count", "delay", "body", "part"}
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    kind = spec.get("kind", "status")
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {FAULT_KINDS}")
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        raise ValueError("method must be a string")
    path = spec.get("path", ".*")
    try:
        re.compile(path)
    except (re.error, TypeError) as exc:
        raise ValueError(f"path is not a valid regex: {exc}") from exc
    status = spec.get("status")
    if kind == "status" and (type(status) is not int or not 100 <= status <= 599):
        raise ValueError("a status fault needs an integer status between 100 and 599")
    count = spec.get("count", 1)
    if type(count) is not int or count < 1:
        raise ValueError("count must be a positive integer")
    delay = spec.get("delay", 0.0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise ValueError("delay must be a non-negative number of seconds")
    retry_after = spec.get("retry_after")
    if retry_after is not None and (isinstance(retry_after, bool)
                                    or not isinstance(retry_after, int | float | str)):
        raise ValueError("retry_after must be a number or a string")
    part = spec.get("part", "body")
    if part not in CUT_PARTS:
        raise ValueError(f"part must be one of {CUT_PARTS}")
    return Fault(kind=kind, method=method.upper() if method else None, path=path, status=status,
                 retry_after=retry_after, count=count, delay=float(delay), body=spec.get("body"), part=part)


class FaultQueue:
    """Pending faults, first match wins; each fault fires ``count`` times then disappears."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # load tests open many connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (it timed out, as tests make it) is normal: no traceback on stderr."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        log.exception("sandbox: error while serving %s", client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns raw HTTP into ``Request`` objects for ``SandboxServer.handle`` and writes the ``Response``."""

    protocol_version = "HTTP/1.1"  # keep-alive: a requests.Session reuses its connection
    server_version = "connector-sandbox"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write; flushed by handle_one_request
    sandbox: ClassVar[SandboxServer]

    def _dispatch(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._write(Response(411, {"error": "chunked request bodies are not supported"}))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._write(Response(400, {"error": "invalid Content-Length"}))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(method=self.command, path=parts.path, query_string=parts.query,
                          headers=self.headers, body=body, client_ip=self.client_address[0])
        response = self.sandbox.handle(request)
        if response is None:  # injected "drop": close without answering
            self.close_connection = True
            return
        if isinstance(response, CutAnswer):
            self.close_connection = True
            self._write_cut(response)
            return
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _write(self, response: Response) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _write_cut(self, cut: CutAnswer) -> None:
        """The answer up to the middle of its headers, or of its body, then nothing (the connection closes)."""
        payload = cut.response.encoded() or b"{}"
        framing = "Connection: close" if cut.part == "body-unframed" else f"Content-Length: {len(payload)}"
        head = (f"HTTP/1.1 {cut.response.status} {self.responses.get(cut.response.status, ('',))[0]}\r\n"
                f"Content-Type: application/json; charset=utf-8\r\n{framing}\r\n\r\n").encode()
        first = head.index(b"\r\n") + 2  # after the status line
        data = head[:first + 10] if cut.part == "headers" else \
            head[:first + len("Content-Type: appl")] if cut.part == "header-value" else \
            head[:head.index(b"\r\n", first) + 2] if cut.part == "header-lines" else head + payload[:len(payload) // 2]
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        if self.sandbox.access_log:
            super().log_message(format, *args)


class SandboxServer:
    """Base of every marketplace sandbox: an HTTP server on 127.0.0.1 with SQLite state.

    Subclasses set ``schema`` and ``path_prefix``, register routes in ``register_routes`` and override the
    hooks below.  ``port=0`` picks a free port; ``url`` says which.  Use as a context manager, or
    ``start()`` / ``stop()``; ``serve_forever()`` blocks (for the CLI).
    """

    name: ClassVar[str] = "sandbox"
    schema: ClassVar[str] = ""
    path_prefix: ClassVar[str] = ""
    idempotency_header: ClassVar[str] = "Idempotency-Key"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, db_path: str | None = None,
                 rate_limiter: RateLimiter | None = None, access_log: bool = False) -> None:
        handler = type("Handler", (_RequestHandler,), {"sandbox": self})
        self._httpd = _HTTPServer((host, port), handler)  # first: a port in use leaves no new --db file behind
        try:
            self.store = SandboxStore(db_path or ":memory:", self.schema)
        except BaseException:
            self._httpd.server_close()
            raise
        self.rate_limiter = rate_limiter
        self.access_log = access_log
        self.faults = FaultQueue()
        self._routes: list[Route] = []
        self._admin_routes: list[Route] = []
        self._register_admin_routes()
        self.register_routes()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = 0  # requests being answered: stop() waits for them before closing the database
        self._idle = threading.Condition()
        self._stopping = threading.Event()  # wakes requests held by a ``delay`` fault

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path prefix)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``url`` plus the marketplace's path prefix: what a client uses as its base URL."""
        return self.url + self.path_prefix

    def start(self) -> Self:
        """Serve in a background daemon thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                            name=f"{self.name}-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket and the database (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
        self._close_store()

    def _close_store(self) -> None:
        """Close the database once the requests being answered (a keep-alive connection's) are done."""
        self._stopping.set()
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=5)
        self.store.close()

    def wait_idle(self, timeout: float | None = 60) -> bool:
        """Wait until no request is being answered (one held by a ``delay`` fault, say, whose client was killed
        meanwhile, has landed); False if one still is after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then close."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._closed = True
            self._httpd.server_close()
            self._close_store()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- routing -----------------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, *, op_class: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator registering ``handler`` for ``method`` and ``path_prefix + pattern`` (full match).

        Named groups in ``pattern`` arrive percent-decoded in ``request.params``.
        """
        def register(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler, op_class=op_class)
            return handler
        return register

    def add_route(self, method: str, pattern: str, handler: Handler, *, op_class: str | None = None) -> None:
        regex = re.compile(re.escape(self.path_prefix) + pattern)
        self._routes.append(Route(method.upper(), regex, handler, op_class))

    def _match(self, routes: list[Route], request: Request) -> tuple[Route | None, bool]:
        """The route for this request, and whether the path exists under another method."""
        path_known = False
        for candidate in routes:
            found = candidate.regex.fullmatch(request.path)
            if found is None:
                continue
            if candidate.method == request.method:
                request.params = {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
                return candidate, True
            path_known = True
        return None, path_known

    # -- hooks for subclasses ----------------------------------------------------------------------------

    def register_routes(self) -> None:
        """Register the marketplace's routes (``self.route`` / ``self.add_route``)."""

    def before_handle(self, request: Request, route: Route) -> Response | None:
        """Authenticate and rate-limit; return a response to answer without running the handler."""
        return None

    def error_response(self, status: int, code: str, message: str, *,
                       headers: dict[str, str] | None = None) -> Response:
        """How this marketplace spells an error.  Base codes: ``NOT_FOUND``, ``METHOD_NOT_ALLOWED``,
        ``INVALID_JSON``, ``RATE_LIMITED``, ``INTERNAL_ERROR``, ``SERVICE_UNAVAILABLE``, ``SANDBOX_FAULT``."""
        return Response(status, {"error": {"code": code, "message": message}}, dict(headers or {}))

    def invalid_json_response(self, request: Request, error: InvalidJSONError) -> Response:
        return self.error_response(400, "INVALID_JSON", str(error))

    def rejected_response(self, rejected: Rejected) -> Response:
        """How this marketplace words a refusal raised by its backend or its checks (its envelope)."""
        return self.error_response(400, str(rejected.code), rejected.first())

    def rate_limited_response(self, request: Request, refusal: Refusal) -> Response:
        scope = "per-IP window" if refusal.scope == "window" else "per-key daily"
        return self.error_response(429, "RATE_LIMITED",
                                   f"Rate limit exceeded ({scope} limit of {refusal.limit})",
                                   headers={"Retry-After": str(refusal.retry_after)})

    def fault_response(self, fault: Fault) -> Response:
        """An injected status fault: the given body, or this marketplace's error for that status."""
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        status = fault.status or 500
        if fault.body is not None:
            return Response(status, fault.body, headers)
        code = {429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 502: "BAD_GATEWAY",
                503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}.get(status, "SANDBOX_FAULT")
        return self.error_response(status, code, f"Injected fault (HTTP {status})", headers=headers)

    def dump_state(self) -> Any:
        """The sandbox's state as JSON (``GET /__sandbox/state``)."""
        return {}

    def seed(self, payload: Any) -> Any:
        """Load raw state without API validation (``POST /__sandbox/seed``); unsupported by default."""
        raise HTTPError(Response(404, {"error": f"{self.name} sandbox has no seed endpoint"}))

    def on_reset(self) -> None:
        """Extra in-memory state to clear on reset (the store, log, faults and limiter are cleared)."""

    # -- helpers for subclasses --------------------------------------------------------------------------

    def check_rate_limit(self, request: Request, op_class: str | None, key: str) -> Response | None:
        """Count the request against ``op_class``; a 429 response if a limit is reached."""
        if self.rate_limiter is None:
            return None
        refusal = self.rate_limiter.acquire(op_class, request.client_ip, key)
        return None if refusal is None else self.rate_limited_response(request, refusal)

    # -- request pipeline --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | CutAnswer | None:
        """Answer one request; ``None`` means drop the connection without answering, a ``CutAnswer`` lose the
        answer part way.  A stopped sandbox answers nothing: a keep-alive connection's thread outlives ``stop``,
        and a request it still gets (or one held by a ``delay`` fault) must not reach the closed database."""
        with self._idle:
            if self._closed:
                return None
            self._busy += 1
        try:
            return self._handle(request)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _handle(self, request: Request) -> Response | CutAnswer | None:
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            return self._handle_admin(request)
        route, path_known = self._match(self._routes, request)
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.kind == "delay":
            self._stopping.wait(fault.delay)  # outside the store lock: other requests go on meanwhile
            if self._closed:  # stopped meanwhile (its client gave up waiting): nothing to answer
                return None
        if fault is not None and fault.kind == "drop":
            response = None
        elif fault is not None and fault.kind == "status":
            response = self.fault_response(fault)
        else:
            response = self._run(request, route, path_known)
        self.store.log_request(
            method=request.method, path=request.path, query=request.query_string,
            status=None if response is None else response.status,
            idempotency_key=request.header(self.idempotency_header) or None, body_size=len(request.body),
            op_class=route.op_class if route else None, fault=fault.kind if fault else None,
        )
        if fault is not None and fault.kind == "cut" and response is not None:
            return CutAnswer(response, fault.part)
        return response

    def _run(self, request: Request, route: Route | None, path_known: bool) -> Response:
        if route is None:
            if path_known:
                return self.error_response(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
            return self.error_response(404, "NOT_FOUND", f"No route for {request.method} {request.path}")
        try:
            return self.before_handle(request, route) or route.handler(request)
        except HTTPError as exc:
            return exc.response
        except Rejected as exc:
            return self.rejected_response(exc)
        except InvalidJSONError as exc:
            return self.invalid_json_response(request, exc)
        except Exception:
            log.exception("%s sandbox: unhandled error on %s %s", self.name, request.method, request.path)
            return self.error_response(500, "INTERNAL_ERROR", "Unhandled sandbox error (see its log)")

    # -- admin ---------------------------------------------------------------------------------------------

    def _register_admin_routes(self) -> None:
        for method, path, handler in (
            ("GET", "/requests", self._admin_requests),
            ("POST", "/reset", self._admin_reset),
            ("GET", "/faults", self._admin_list_faults),
            ("POST", "/faults", self._admin_add_faults),
            ("DELETE", "/faults", self._admin_clear_faults),
            ("GET", "/state", self._admin_state),
            ("POST", "/seed", self._admin_seed),
        ):
            self._admin_routes.append(Route(method, re.compile(re.escape(ADMIN_PREFIX + path)), handler))

    def _handle_admin(self, request: Request) -> Response:
        route, path_known = self._match(self._admin_routes, request)
        if route is None:
            return Response(405 if path_known else 404, {"error": "unknown sandbox admin endpoint"})
        try:
            return route.handler(request)
        except HTTPError as exc:
            return exc.response
        except (InvalidJSONError, ValueError) as exc:
            return Response(400, {"error": str(exc)})

    def _admin_requests(self, request: Request) -> Response:
        since = request.query_value("since") or "0"
        if not since.isdigit():
            raise ValueError("since must be a request id (a non-negative integer)")
        return Response(200, {"requests": self.store.requests(int(since))})

    def _admin_reset(self, request: Request) -> Response:
        self.reset()
        return Response(200, {"reset": True})

    def _admin_list_faults(self, request: Request) -> Response:
        return Response(200, {"faults": [f.as_dict() for f in self.faults.pending()]})

    def _admin_add_faults(self, request: Request) -> Response:
        payload = request.json()
        specs = payload.get("faults", []) if isinstance(payload, dict) and "faults" in payload else payload
        specs = specs if isinstance(specs, list) else [specs]
        faults = [parse_fault(spec) for spec in specs]  # validate all before enqueuing any
        return Response(201, {"faults": [self.faults.add(f).as_dict() for f in faults]})

    def _admin_clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(200, {"faults": []})

    def _admin_state(self, request: Request) -> Response:
        state = self.dump_state()
        if self.rate_limiter is not None:
            state = {**state, "rate_limit_usage": self.rate_limiter.usage()} if isinstance(state, dict) else state
        return Response(200, state)

    def _admin_seed(self, request: Request) -> Response:
        return Response(201, self.seed(request.json()))

    # -- Python-side admin (same as the endpoints, for in-process tests) -----------------------------------

    def reset(self) -> None:
        """Wipe state, the request log, pending faults and rate-limit counters."""
        self.store.reset()
        self.faults.clear()
        if self.rate_limiter is not None:
            self.rate_limiter.reset()
        self.on_reset()

    def add_fault(self, kind: str = "status", **spec: Any) -> Fault:
        """Enqueue a fault (same fields as ``POST /__sandbox/faults``)."""
        return self.faults.add(parse_fault({"kind": kind, **spec}))

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.store.requests(since)
