"""Offline multilingual toxicity scoring, learning from moderators, and language detection."""

from rostra.moderation.toxicity.classifier import (
    CASCADE,
    Evidence,
    ToxicityClassifier,
    ToxicityScores,
)
from rostra.moderation.toxicity.encoders import Encoder, EncoderName, load_encoder
from rostra.moderation.toxicity.heads import HEADS, ShippedModel
from rostra.moderation.toxicity.language import LanguageDetector, detect_language
from rostra.moderation.toxicity.site_head import SiteHead, Verdict

__all__ = [
    "CASCADE",
    "HEADS",
    "Encoder",
    "EncoderName",
    "Evidence",
    "LanguageDetector",
    "ShippedModel",
    "SiteHead",
    "ToxicityClassifier",
    "ToxicityScores",
    "Verdict",
    "detect_language",
    "load_encoder",
]
