"""Offline multilingual toxicity scoring, learning from moderators, and language detection."""

from rostra.moderation.toxicity.cascade import CascadeRule
from rostra.moderation.toxicity.classifier import CASCADE, ToxicityClassifier, ToxicityScores
from rostra.moderation.toxicity.encoders import Encoder, EncoderName, load_encoder
from rostra.moderation.toxicity.language import LanguageDetector, detect_language
from rostra.moderation.toxicity.shipped import ShippedHead
from rostra.moderation.toxicity.site_head import SiteHead, Verdict, blend

__all__ = [
    "CASCADE",
    "CascadeRule",
    "Encoder",
    "EncoderName",
    "LanguageDetector",
    "ShippedHead",
    "SiteHead",
    "ToxicityClassifier",
    "ToxicityScores",
    "Verdict",
    "blend",
    "detect_language",
    "load_encoder",
]
