"""The per-site correction that learns from moderator decisions.

Two parts: the head's mechanics on the real encoder (it learns a site's own rule and
changes the next score), and calibration on a real, human-labelled set (Russian comments
under news posts on VK, labelled by the set's authors; tests/moderation/data/README.md):
after 20, 50 and 200 decisions the site's scores must rank at least as well, and the hold
line must catch about as much abuse as the shipped model's, because the decisions say
the same — whether moderators meet comments as they come or, as in a real queue, mostly
the ones the shipped model already flagged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from rostra.moderation.toxicity import SiteHead, ToxicityClassifier, Verdict
from rostra.moderation.toxicity.heads import DenseHeads, ShippedModel, sigmoid
from rostra.moderation.toxicity.metrics import roc_auc
from rostra.moderation.toxicity.site_head import MAX_SHIFT

FIXTURE = Path(__file__).parent / "data" / "site_learning_ru_vk.npz"

# A site that also rejects conspiracy talk, which the shipped model lets through.
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
    instance = ToxicityClassifier("use3")
    instance.load()
    return instance


@pytest.fixture(scope="module")
def basis() -> DenseHeads:
    return ShippedModel.load().use3


def test_it_changes_nothing_before_any_decision(classifier: ToxicityClassifier, basis: DenseHeads) -> None:
    scores = classifier.assess(NEW_CONSPIRACY)
    head = SiteHead.new(basis)
    assert head.score(scores.logit, scores.embedding) == pytest.approx(scores.toxic, abs=1e-9)


def test_it_learns_a_site_rule_that_changes_the_next_score(
    classifier: ToxicityClassifier, basis: DenseHeads
) -> None:
    head = SiteHead.new(basis)
    conspiracy, ordinary = classifier.assess_many([NEW_CONSPIRACY, NEW_ORDINARY])
    before_c = head.score(conspiracy.logit, conspiracy.embedding)
    before_o = head.score(ordinary.logit, ordinary.embedding)
    for text, verdict in [(t, Verdict.REJECT) for t in CONSPIRACY] + [(t, Verdict.APPROVE) for t in ORDINARY]:
        scores = classifier.assess(text)  # one moderator action at a time
        head.update(scores.embedding, verdict, scores.logit)
    rise_c = head.score(conspiracy.logit, conspiracy.embedding) - before_c
    rise_o = head.score(ordinary.logit, ordinary.embedding) - before_o
    # Conspiracy talk moves up, towards this site's standard; ordinary talk does not follow.
    assert rise_c > 0.02 and rise_c > rise_o + 0.03, (rise_c, rise_o)
    assert head.n_decisions == 12 and head.n_rejections == 6


def test_it_learns_nearly_the_same_one_at_a_time_or_in_a_batch(basis: DenseHeads) -> None:
    rng = np.random.default_rng(3)
    x = basis.mean + rng.normal(size=(40, basis.dim)) / basis.scale
    logits = rng.normal(size=40)
    labels = list(rng.random(40) < 0.4)
    one, batch = SiteHead.new(basis), SiteHead.new(basis)
    for row, label, logit in zip(x, labels, logits, strict=True):
        one.update(row, label, logit)
    batch.update(x, labels, logits)
    probe = basis.mean + rng.normal(size=(20, basis.dim)) / basis.scale
    assert np.max(np.abs(one.correction(probe) - batch.correction(probe))) < 0.35


def test_its_correction_is_bounded(basis: DenseHeads) -> None:
    rng = np.random.default_rng(4)
    x = basis.mean + rng.normal(size=(300, basis.dim)) / basis.scale
    head = SiteHead.new(basis, prior_precision=1e-3)
    # Moderators approve everything the shipped model was sure about: the correction
    # tries to pull hard, but never more than MAX_SHIFT logits.
    head.update(x, [False] * 300, np.full(300, 6.0))
    assert float(head.correction(x).min()) >= -MAX_SHIFT - 1e-9


def test_the_site_base_rate_does_not_move_every_score(basis: DenseHeads) -> None:
    # A site whose moderators approve 19 comments for every one they reject, in line
    # with what the shipped model said: the head must not learn "reject less" from the
    # share alone, or nothing would reach the hold line any more.
    rng = np.random.default_rng(5)
    x = basis.mean + rng.normal(size=(400, basis.dim)) / basis.scale
    bad = rng.random(400) < 0.05
    logits = np.where(bad, 2.5, -2.5) + rng.normal(scale=0.5, size=400)
    head = SiteHead.new(basis)
    head.update(x, list(bad), logits)
    probe = basis.mean + rng.normal(size=(200, basis.dim)) / basis.scale
    assert abs(float(head.correction(probe).mean())) < 0.5


def test_it_round_trips_through_bytes_and_forgets_old_heads(basis: DenseHeads) -> None:
    head = SiteHead.new(basis)
    head.update(basis.mean, True, 0.3)
    again = SiteHead.from_bytes(head.to_bytes())
    assert again is not None and again.n_decisions == 1
    assert np.allclose(again.correction(basis.mean), head.correction(basis.mean), atol=1e-3)
    # A head stored by an older Rostra predicted on its own; it is relearned, not misread.
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, std_mean=basis.mean, std_scale=basis.scale,
                        mean=np.zeros(basis.dim + 1), precision=np.ones(basis.dim + 1),
                        counts=np.array([3, 1]))
    assert SiteHead.from_bytes(buffer.getvalue()) is None


def test_it_refuses_mismatched_inputs(basis: DenseHeads) -> None:
    head = SiteHead.new(basis)
    with pytest.raises(ValueError, match="embeddings"):
        head.update(np.tile(basis.mean, (3, 1)), [True, False], [0.1, 0.2, 0.3])


# -- calibration on real decisions --------------------------------------------------


def _fixture() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], float, float]:
    with np.load(FIXTURE) as z:
        return (z["embedding"].astype(np.float64), z["logit"].astype(np.float64),
                z["abusive"].astype(bool), float(z["nudge_line"]), float(z["hold_line"]))


@pytest.mark.parametrize("meets", ["random", "queue"])
@pytest.mark.parametrize("decisions", [20, 50, 200])
def test_learning_from_real_decisions_keeps_the_lines_meaning(
    basis: DenseHeads, decisions: int, meets: str
) -> None:
    x, logits, abusive, nudge, hold = _fixture()
    shipped = sigmoid(logits)
    aucs, recalls, shipped_recalls, shipped_aucs = [], [], [], []
    for seed in range(5):
        # Moderators decide among the site's past comments; the lines are judged on new ones.
        order = np.random.default_rng(seed).permutation(len(x))
        past, rest = order[: len(x) // 2], order[len(x) // 2:]
        if meets == "queue":  # as in a real queue: what reached the nudge line
            past = past[shipped[past] >= nudge]
        taught = past[:decisions]
        head = SiteHead.new(basis)
        for i in taught:  # one decision at a time, as the set's labels say
            head.update(x[i], bool(abusive[i]), logits[i])
        site = sigmoid(logits[rest] + head.correction(x[rest]))
        aucs.append(roc_auc(abusive[rest], site))
        shipped_aucs.append(roc_auc(abusive[rest], shipped[rest]))
        recalls.append(float((site[abusive[rest]] >= hold).mean()))
        shipped_recalls.append(float((shipped[rest][abusive[rest]] >= hold).mean()))
    assert np.mean(aucs) >= np.mean(shipped_aucs) - 0.005, (aucs, shipped_aucs)
    assert abs(np.mean(recalls) - np.mean(shipped_recalls)) <= 0.10, (recalls, shipped_recalls)
    assert np.mean(shipped_recalls) > 0.05  # the set gives the hold line something to catch
