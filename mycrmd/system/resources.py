"""Where the files shipped beside the code live.

A wheel carries them inside the package (pyproject's force-include); a checkout or an
editable install keeps them at the repository's top level.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # mycrmd/


def resource(name: str) -> Path:
    """Path of a shipped file or folder: templates, static, schema.sql, README.md."""
    inside = _PACKAGE / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name
