"""The baseline server: a plain FastAPI endpoint that calls transformers.pipeline per request."""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

import framewatch.modeling  # noqa: F401  (registers framewatch's mean-pooling architecture with transformers)

classifier = pipeline(
    "text-classification",
    model=os.environ["NAIVE_CHECKPOINT"],
    top_k=None,
    device=os.environ.get("NAIVE_DEVICE", "cpu"),
)
app = FastAPI()


class Body(BaseModel):
    texts: list[str]


@app.post("/v1/classify")
def classify(body: Body) -> dict:
    return {"results": [classifier(text) for text in body.texts]}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
