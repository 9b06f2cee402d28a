"""The published JSON Schemas of the dossier and the assessment (kept in step with the models by a test).

Regenerate with ``python -m cybersafe.dossier.schema`` (``make schemas``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from cybersafe.dossier.model import Dossier


def dossier_json_schema() -> dict[str, Any]:
    schema = Dossier.model_json_schema(by_alias=True)
    schema["$id"] = "https://cybersafe.dev/schemas/dossier/v1.json"
    schema["title"] = "cybersafe product dossier v1"
    return schema


def schemas_dir() -> Path:
    return Path(str(resources.files("cybersafe") / "schemas"))


def published_schema_path() -> Path:
    return schemas_dir() / "dossier-v1.schema.json"


def write_schemas() -> list[Path]:
    from cybersafe.results import assessment_json_schema

    written = []
    for name, schema in (("dossier-v1", dossier_json_schema()), ("assessment-v1", assessment_json_schema())):
        path = schemas_dir() / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_schemas():
        print(written_path)
