"""Where a project's inputs and outputs live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def clinics(self) -> Path:
        return self.root / "content" / "clinics"

    @property
    def locales(self) -> Path:
        return self.root / "locales"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def pot(self) -> Path:
        return self.locales / "messages.pot"

    def clinic_files(self) -> list[Path]:
        return sorted(self.clinics.glob("*.toml"))
