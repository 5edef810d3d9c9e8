"""The bridging score on simulated raters: two camps that usually disagree, and notes
each camp, both or neither find helpful."""

from __future__ import annotations

import random

from rostra.core.bridging import MIN_RATINGS, Rating, score_notes

LEFT = [f"left{i}" for i in range(15)]
RIGHT = [f"right{i}" for i in range(15)]


def camps_disagree(rng: random.Random, notes: int = 8) -> list[Rating]:
    """Ratings that reveal the camps: on these notes each camp mostly likes its own side
    (one rater in ten goes against their camp)."""
    out = []
    for n in range(notes):
        ours = LEFT if n % 2 == 0 else RIGHT
        for rater in LEFT + RIGHT:
            if rng.random() < 0.7:
                helpful = (rater in ours) != (rng.random() < 0.1)
                out.append(Rating(f"split{n}", rater, helpful))
    return out


def test_it_shows_what_both_camps_find_helpful_and_nothing_one_sided() -> None:
    for seed in range(10):
        rng = random.Random(seed)
        ratings = camps_disagree(rng)
        # Bridging: eleven of twelve raters, from both camps, find it helpful.
        ratings += [Rating("bridging", r, r != RIGHT[5]) for r in LEFT[:6] + RIGHT[:6]]
        # One-sided: every left rater found it helpful, and no right rater rated it.
        ratings += [Rating("left only", r, True) for r in LEFT]
        ratings += [Rating("left, right against", r, r in LEFT) for r in LEFT[:6] + RIGHT[:6]]
        ratings += [Rating("unhelpful", r, rng.random() < 0.1) for r in LEFT[:6] + RIGHT[:6]]
        scores = score_notes(ratings)
        assert scores["bridging"].shown, (seed, scores["bridging"])
        for name in ("left only", "left, right against", "unhelpful"):
            assert not scores[name].shown, (seed, name, scores[name])
        assert not any(scores[f"split{n}"].shown for n in range(8))
        # The split notes sit at the ends of the view; the bridging one near its middle.
        assert abs(scores["bridging"].view) < min(abs(scores[f"split{n}"].view)
                                                  for n in range(8))


def test_it_needs_enough_ratings() -> None:
    ratings = [Rating("early", r, True) for r in LEFT[:2] + RIGHT[:2]]
    assert MIN_RATINGS > 4 and not score_notes(ratings)["early"].shown
    ratings += [Rating("early", r, True) for r in LEFT[2:4] + RIGHT[2:4]]
    assert score_notes(ratings)["early"].shown


def test_the_same_ratings_give_the_same_scores_in_any_order() -> None:
    rng = random.Random(7)
    ratings = camps_disagree(rng) + [Rating("bridging", r, True) for r in LEFT[:6] + RIGHT[:6]]
    first = score_notes(ratings)
    again = score_notes(list(ratings))
    assert first == again
    shuffled = list(ratings)
    random.Random(1).shuffle(shuffled)
    assert score_notes(shuffled)["bridging"].shown == first["bridging"].shown
    assert score_notes([]) == {}
