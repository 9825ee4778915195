"""What the LLM cross-check said: Claude's polarity beside the model's, one row per text and LLM."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class LlmPolarityRow(Base):
    """Record and cache: a text is asked about once per LLM model and prompt version, ever."""

    __tablename__ = "llm_polarity"
    __table_args__ = (UniqueConstraint("content_hash", "llm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    llm: Mapped[str] = mapped_column(String(160))  # model id and prompt version
    label: Mapped[str] = mapped_column(String(16))
    polarity: Mapped[float] = mapped_column(Float)  # Claude's, in [-1, 1]
    model: Mapped[str] = mapped_column(String(160))  # the sentiment backend it was checked against
    model_score: Mapped[float] = mapped_column(Float)  # that backend's net score, in [-1, 1]
    weight: Mapped[float] = mapped_column(Float)  # the blend weight in force when it was asked
    blended_score: Mapped[float] = mapped_column(Float)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
