"""Where a generated workbook may be written: a suffix that says its format, never over its own input."""

from __future__ import annotations

import os
from pathlib import Path

from connector.errors import ConfigError

XLSX_OUTPUTS = (".xlsx", ".xlsm")
CSV_OUTPUTS = (".csv",)


def output_format(out: Path, what: str, inputs: list[Path] | tuple[Path, ...] = (), xlsm: bool = False) -> str:
    """``"xlsx"`` or ``"csv"``, the format ``out``'s suffix asks for; raises ``ConfigError`` for another suffix
    (``.xlsm`` only when ``xlsm``: a copy of a workbook with macros) or when ``out`` is one of ``inputs`` (also
    through a symbolic link, a relative path or a hard link)."""
    suffix = out.suffix.lower()
    if suffix == ".xlsx" or (xlsm and suffix in XLSX_OUTPUTS):
        kind = "xlsx"
    elif suffix in CSV_OUTPUTS:
        kind = "csv"
    else:
        also = " (or .xlsm for a workbook with macros)" if xlsm else ""
        raise ConfigError(f"{what} {out}: the file name must end in .xlsx or .csv{also} (it says which format is "
                          "written)")
    check_output_path(out, what, inputs)
    return kind


def check_output_path(out: Path, what: str, inputs: list[Path] | tuple[Path, ...] = (), *,
                      folder_must_exist: bool = True) -> None:
    """Refuse, before anything is read or sent, an output path that is one of ``inputs`` (the workbook read, the
    state file), a folder or a device, or (``folder_must_exist``) that lies in a folder that does not exist."""
    for source in inputs:
        if same_file(out, source):
            raise ConfigError(f"{what} {out} is the input file {source}: choose another name (the input is never "
                              "overwritten)")
    if out.exists() and not out.is_file():
        raise ConfigError(f"{what} {out} is a folder or a device, not a file: give a file name")
    if folder_must_exist and not out.parent.is_dir():
        raise ConfigError(f"{what} {out}: the folder {out.parent} does not exist")


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return Path(os.path.realpath(a)) == Path(os.path.realpath(b))
