"""Language detection of comments with py3langid, restricted to a site's likely languages."""

from __future__ import annotations

import pytest

from rostra.moderation.toxicity import LanguageDetector, detect_language

SAMPLES = [
    ("The council finally approved the new tram line, about time.", "en"),
    ("Der Stadtrat hat die neue Straßenbahnlinie endlich genehmigt.", "de"),
    ("Zastupiteľstvo konečne schválilo novú električkovú trať.", "sk"),
    ("Городской совет наконец одобрил новую трамвайную линию.", "ru"),
    ("Міська рада нарешті затвердила нову трамвайну лінію.", "uk"),
    ("Rada miasta wreszcie zatwierdziła nową linię tramwajową.", "pl"),
    ("Le conseil municipal a enfin approuvé la nouvelle ligne de tram.", "fr"),
    ("El ayuntamiento por fin aprobó la nueva línea de tranvía.", "es"),
    ("시의회가 마침내 새 트램 노선을 승인했습니다.", "ko"),
    # Languages of the classifier's real training sets, detected by default too.
    ("A câmara finalmente aprovou a nova linha de bonde, já era hora.", "pt"),
    ("وافق مجلس المدينة أخيرا على خط الترام الجديد.", "ar"),
    ("Belediye meclisi sonunda yeni tramvay hattını onayladı.", "tr"),
    ("Il consiglio comunale ha finalmente approvato la nuova linea del tram.", "it"),
]


@pytest.mark.parametrize(("text", "lang"), SAMPLES)
def test_it_detects_the_language_of_a_comment(text: str, lang: str) -> None:
    code, confidence = detect_language(text)
    assert code == lang
    assert 0.5 <= confidence <= 1.0


def test_it_is_surer_of_short_comments_among_a_sites_languages() -> None:
    short = "Great article"
    _, open_confidence = detect_language(short, languages=None, min_confidence=0.0)
    code, site_confidence = detect_language(short, languages=("en", "de", "sk"), min_confidence=0.0)
    assert code == "en"
    assert site_confidence > open_confidence


def test_it_answers_undetermined_when_it_cannot_tell() -> None:
    assert detect_language("") == ("und", 0.0)
    assert detect_language("   ")[0] == "und"
    assert detect_language("12345 :-) !!!", min_confidence=0.99)[0] == "und"


def test_it_refuses_an_unknown_language_code() -> None:
    with pytest.raises(ValueError):
        LanguageDetector(languages=("en", "xx")).detect("hello there")
