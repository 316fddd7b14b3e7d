"""The health model file the team edits (YAML): kind, components or rules, bands, variants.

The commented default (default_model.yaml) documents the format. A file is read into a
`ModelFile`, one `Model` for the base and one per variant (a variant is the base with what
it names changed: a component's weight alone, say). Every mistake is reported as
"FILE, line N: path.to.field: what is wrong (got …)", all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sucesso.health.signals import SIGNALS
from sucesso.yamlfile import YamlFileError, read_mapping, validate

GROUP_COLUMNS = ("segment", "touch_model", "plan", "country")


ModelFileError = YamlFileError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_signal(name: str) -> str:
    if name not in SIGNALS:
        raise ValueError(f"unknown signal {name!r}; the signals are: {', '.join(SIGNALS)}")
    return name


class Part(_Strict):
    """One signal of a component, scored on its scale."""

    scale: list[tuple[float, float]]
    weight: float = Field(1.0, ge=0)

    @field_validator("scale")
    @classmethod
    def _rising(cls, scale):
        if len(scale) < 2:
            raise ValueError("a scale needs at least two [value, score] points")
        values = [v for v, _ in scale]
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError(f"the values of a scale must rise from point to point, got {values}")
        if any(not 0 <= s <= 100 for _, s in scale):
            raise ValueError("the scores of a scale are 0 to 100")
        return scale


class Component(_Strict):
    weight: float = Field(ge=0)
    signals: dict[str, Part] = Field(min_length=1)

    @field_validator("signals")
    @classmethod
    def _known(cls, signals):
        for name in signals:
            _known_signal(name)
        return signals


class Rule(_Strict):
    """Points per unit of a counting signal (an NPS detractor answer, a ticket…), up to max_units."""

    signal: str
    points: float
    max_units: float | None = Field(None, gt=0)

    _check_signal = field_validator("signal")(_known_signal)


class Model(_Strict):
    name: str = "model"
    kind: Literal["weighted", "points"] = "weighted"
    satisfaction_window_days: int = Field(365, ge=1, le=3650)
    bands: dict[str, float] = Field(default_factory=lambda: {"red": 50, "yellow": 70, "green": 100})
    components: dict[str, Component] | None = None
    base: float = Field(50, ge=0, le=100)
    rules: dict[str, Rule] | None = None

    @field_validator("bands")
    @classmethod
    def _bands(cls, bands):
        bounds = list(bands.values())
        if len(bounds) < 2:
            raise ValueError("give at least two bands, each with the highest rounded score it holds")
        if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)) or bounds[-1] != 100:
            raise ValueError(f"band bounds must rise and the last must be 100, got {bounds}")
        return bands

    @model_validator(mode="after")
    def _parts_for_kind(self):
        if self.kind == "weighted" and not self.components:
            raise ValueError("a weighted model needs `components`")
        if self.kind == "weighted" and not any(c.weight > 0 for c in self.components.values()):
            raise ValueError("at least one component needs a weight above 0")
        if self.kind == "points" and not self.rules:
            raise ValueError("a points model needs `rules`")
        return self

    def band(self, rounded_score: float) -> str:
        for name, upper in self.bands.items():
            if rounded_score <= upper:
                return name
        return list(self.bands)[-1]


class _Variant(_Strict):
    name: str
    when: dict[Literal["segment", "touch_model", "plan", "country"], str] = Field(min_length=1)
    kind: Literal["weighted", "points"] | None = None
    bands: dict[str, float] | None = None
    components: dict[str, dict] | None = None
    base: float | None = None
    rules: dict[str, dict] | None = None


@dataclass
class ModelFile:
    """The base model, its variants (with their `when`), and the file's text (to store it)."""

    base: Model
    variants: list[tuple[dict[str, str], Model]]
    text: str

    @property
    def models(self) -> list[Model]:
        return [self.base, *(m for _, m in self.variants)]

    @property
    def name(self) -> str:
        return self.base.name


def default_text() -> str:
    return resources.files("sucesso.health").joinpath("default_model.yaml").read_text(encoding="utf-8")


def load_model(text: str | None = None, source: str = "the default model") -> ModelFile:
    """Read a model file's text (None: the shipped default); raise ModelFileError listing every problem."""
    text = default_text() if text is None else text
    data, lines = read_mapping(text, source, "a model file is a mapping (name:, kind:, components:, …)")
    base_data = {k: v for k, v in data.items() if k != "variants"}
    problems: list[str] = []
    base = validate(Model, base_data, (), lines, source, problems)
    variants = []
    for i, raw in enumerate(data.get("variants") or []):
        v = validate(_Variant, raw, ("variants", i), lines, source, problems)
        if v is not None:
            merged = _merge(base_data, raw)
            model = validate(Model, merged, ("variants", i), lines, source, problems)
            if model is not None:
                variants.append((v.when, model))
    if problems:
        raise ModelFileError("\n".join(problems))
    return ModelFile(base, variants, text)


def _merge(base: dict, variant: dict) -> dict:
    """The base with the variant's keys; components and rules merged one by one."""
    merged = {**base, **{k: v for k, v in variant.items() if k not in ("when", "components", "rules")}}
    for key in ("components", "rules"):
        if variant.get(key):
            merged[key] = {**(base.get(key) or {})}
            for name, change in variant[key].items():
                merged[key][name] = {**(merged[key].get(name) or {}), **(change or {})}
    return merged
