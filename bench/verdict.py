"""The ``met`` column of every bench row: one spelling, so ``make bench`` can tell a missed target."""


def met(ok: bool) -> str:
    return "yes" if ok else "no"
