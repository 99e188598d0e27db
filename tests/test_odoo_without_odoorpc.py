"""Without odoorpc installed (a plain `pip install` of the connector has no 'odoo' extra) the Odoo source
says which package to install, as a package name pip finds: never `connector[odoo]`, which pip would look up
as another project of that name on the package index."""

from __future__ import annotations

import sys

import pytest

from connector.errors import SourceError
from connector.sources.odoo.odoorpc_backend import OdooRPCBackend
from connector.sources.odoo.settings import OdooSettings


def test_the_missing_package_is_named_as_pip_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "odoorpc", None)  # `import odoorpc` raises ImportError
    backend = OdooRPCBackend(OdooSettings(url="http://127.0.0.1:9", db="prod"), "secret")
    with pytest.raises(SourceError) as exc:
        backend.connect()
    said = str(exc.value)
    assert "pip install odoorpc" in said
    assert "'connector[odoo]'" not in said
    assert "backend: json2" in said
