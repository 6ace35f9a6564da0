"""Running an installed mycrmd apart from the checkout and the interpreter running the tests."""

import os


def isolated_environment() -> dict[str, str]:
    """This environment without PYTHONPATH and the like, so that a virtual environment's own
    packages are all its Python can import."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
