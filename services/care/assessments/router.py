from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/care/assessments", tags=["care: assessments"])
