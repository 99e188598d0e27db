"""The names of the mass-change guard's yes/no settings: each is a key of the profile's ``guard:`` table and a
command-line flag (``allow_mass_change`` is ``--allow-mass-change``).  Apart from ``guard.py`` so that the
whole-run shortcut (``unchanged.py``) can key a clean run by them without importing the guard."""

ALLOWS = ("allow_mass_change", "allow_price_change", "allow_sku_case_change", "allow_location_removal",
          "allow_active_column_removal")
