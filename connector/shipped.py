"""Files shipped with the package: the declarative mappings and the workbook templates.

They live in the project's top-level ``mappings/`` and ``templates/`` folders and are installed inside the
package as ``connector.mappings`` and ``connector.templates`` (see ``setup.py``), so they are found through
``importlib.resources`` the same way from a checkout (editable install) and from an installed wheel.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

MAPPINGS_PACKAGE = "connector.mappings"
TEMPLATES_PACKAGE = "connector.templates"

_EXTRACTED = ExitStack()  # files of a zipped install, extracted for the life of the process
atexit.register(_EXTRACTED.close)


def shipped_file(package: str, name: str) -> Path:
    """A shipped file as a filesystem path (extracted once when the package is not on a filesystem)."""
    resource = resources.files(package).joinpath(name)
    if isinstance(resource, Path):
        return resource
    return _EXTRACTED.enter_context(resources.as_file(resource))


def shipped_names(package: str, suffix: str) -> list[str]:
    """Names (without ``suffix``) of the files shipped in ``package`` that end with ``suffix``."""
    return sorted(r.name[: -len(suffix)] for r in resources.files(package).iterdir()
                  if r.is_file() and r.name.endswith(suffix))


def sample_workbook() -> Path:
    """The bundled demo catalogue that ``connector demo`` syncs."""
    return shipped_file(TEMPLATES_PACKAGE, "sample_catalogue.xlsx")
