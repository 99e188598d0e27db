"""A local EcomLinx REST API: the contract of ``docs/ecomlinx.md`` on 127.0.0.1 with SQLite state.

``backend.py`` holds the state and its rules, ``delivery.py`` the signed webhook POSTs, ``routes.py`` the HTTP
side.  Besides the base admin endpoints (``/__sandbox/requests``, ``reset``, ``faults``, ``state``, ``seed``):

- ``POST /__sandbox/seed`` ``{"products": [...], "orders": [...], "channels": [...]}`` pre-loads a catalogue
  (EcomLinx has no create endpoint, so this is how products get there);
- ``POST /__sandbox/webhooks/emit`` ``{"event", "data", "times"}`` delivers an event (``times`` > 1: the same
  signed body again, as a redelivery);
- ``GET /__sandbox/webhooks/deliveries`` lists what was POSTed to registered URLs.

Sandbox-only order control, under the API with a key (``/v1/_sandbox/``): ``POST /v1/_sandbox/orders`` places an
order (its units leave the stock) and ``POST /v1/_sandbox/orders/{id}/status`` moves it; in Python
``create_order`` / ``set_order_status``.

Webhooks are really POSTed, signed ``X-EcomLinx-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, but
only to loopback URLs: a sandbox never calls out to the internet.
"""

from .backend import EcomLinxBackend
from .delivery import sign
from .routes import PATH_PREFIX, PLAN_LIMITS, PRO_KEY, SCALE_KEY, EcomLinxSandbox, create_sandbox

__all__ = ["PATH_PREFIX", "PLAN_LIMITS", "PRO_KEY", "SCALE_KEY", "EcomLinxBackend", "EcomLinxSandbox",
           "create_sandbox", "sign"]
