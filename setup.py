"""What pyproject.toml cannot say on its own: the top-level ``mappings/`` and ``templates/`` folders are
installed inside the package, as ``connector.mappings`` and ``connector.templates`` (read with
``importlib.resources``, see ``connector/shipped.py``).  Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

SHIPPED = {"connector.mappings": "mappings", "connector.templates": "templates"}

setup(
    packages=[*find_namespace_packages(include=["connector", "connector.*"], exclude=["*.__pycache__"]), *SHIPPED],
    package_dir=SHIPPED,
)
