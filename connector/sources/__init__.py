"""Sources produce canonical records (``connector.model``) and issues; they know nothing of marketplaces."""
