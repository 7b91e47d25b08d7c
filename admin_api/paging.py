"""Pages of list endpoints: ``page`` (from 1) and ``page_size`` query parameters, ``total`` in the answer."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel


class PageRequest(BaseModel):
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_request(page: int = Query(1, ge=1, le=1_000_000),
                 page_size: int = Query(50, ge=1, le=500)) -> PageRequest:
    return PageRequest(page=page, page_size=page_size)


class Page(BaseModel):
    items: list[Any]
    total: int
    page: int
    page_size: int
