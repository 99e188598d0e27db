"""What pyproject.toml cannot say on its own: the top-level ``mappings/`` and ``templates/`` folders are
installed inside the package, as ``connector.mappings`` and ``connector.templates`` (read with
``importlib.resources``, see ``connector/shipped.py``), and the optional native encoding of canonical records
(``connector/sync/_record_bytes.c``, see ``connector/sync/fingerprint.py``): built where a C compiler and
Python's headers are, and left out, with a warning, where they are not (the package then fingerprints records in
Python, about three times slower).  Everything else is in pyproject.toml."""

from setuptools import Extension, find_namespace_packages, setup

SHIPPED = {"connector.mappings": "mappings", "connector.templates": "templates"}

setup(
    packages=[*find_namespace_packages(include=["connector", "connector.*"], exclude=["*.__pycache__"]), *SHIPPED],
    package_dir=SHIPPED,
    ext_modules=[Extension("connector.sync._record_bytes", ["connector/sync/_record_bytes.c"], optional=True)],
)
