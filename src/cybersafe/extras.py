"""Optional parts of cybersafe and the packages each needs (pyproject.toml's extras).

When a module of an extra is missing, the user is told which extra to install instead of seeing an
ImportError: the CLI says it in one line, and the assessment records the evidence as missing with the hint.
"""

from __future__ import annotations

# top-level module -> the extra that installs it
EXTRA_OF_MODULE = {
    "unblob": "firmware",
    "cyclonedx": "firmware",
    "ubireader": "firmware",
    "lief": "firmware",
    "elftools": "firmware",
    "crypt_r": "firmware",
    "pyperscan": "firmware",
    "sslyze": "network",
    "ssh_audit": "network",
    "nassl": "network",
    "weasyprint": "report",
    "fastapi": "registry",
    "uvicorn": "registry",
    "sqlalchemy": "registry",
    "alembic": "registry",
    "psycopg": "registry",
    "multipart": "registry",
    "dask": "fleet",
    "distributed": "fleet",
}


def missing_extra(exc: ImportError) -> str | None:
    """One line naming the extra to install, when ``exc`` is a missing module of one; else None."""
    name = (exc.name or "").split(".", 1)[0]
    extra = EXTRA_OF_MODULE.get(name)
    if extra is None:
        return None
    return f"this needs the '{extra}' extra ({name} is not installed): pip install 'cybersafe[{extra}]'"
