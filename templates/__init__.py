"""The shipped workbooks (templates and the demo catalogue); installed as the package ``connector.templates``."""
