"""Synthetic landing files for Client360: the CSV exports of CRM, support, billing, marketing, product and web."""

from .config import SCALES, DefectRates, Scale
from .defects import PlantedDefects
from .generator import GenerationSummary, generate

__all__ = ["SCALES", "DefectRates", "GenerationSummary", "PlantedDefects", "Scale", "generate"]
