"""The shipped mapping files, one per marketplace; installed as the package ``connector.mappings``."""
