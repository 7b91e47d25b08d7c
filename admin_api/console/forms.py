"""Forms to the services' typed inputs, and what went wrong back to the fields it concerns."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from admin_api.http import field_errors
from kernel.errors import GGAError

M = TypeVar("M", bound=BaseModel)
FORM = "_form"  # errors about the whole form, shown above it


def fields(form: FormData, *lists: str) -> dict[str, Any]:
    """A form's fields as a dict (``csrf`` left out); the ``lists`` names keep every value (checkboxes)."""
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf" and k not in lists}
    data.update({name: form.getlist(name) for name in lists})
    return data


def build(model: type[M], data: dict[str, Any], lang: str) -> tuple[M | None, dict[str, str]]:
    """The model, or the errors by field (first one per field) in the person's language."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in field_errors(list(exc.errors()), lang):
            errors.setdefault(error["field"] or FORM, error["message"])
        return None, errors


def refused(err: GGAError, lang: str) -> dict[str, str]:
    """A service's refusal next to the field it names, else above the form."""
    field = err.details.get("field")
    return {field if isinstance(field, str) else FORM: err.localized(lang)}
