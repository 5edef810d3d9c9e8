"""Which reader-proposed context notes to show: a bridging score, as public
community-notes systems rank notes.

Each rating (a reader found a note helpful: 1, or not: 0) is explained as

    rating ≈ μ + reader_bias + note_bias + reader_view × note_view

fitted by regularised least squares, with μ fixed at one half. (Published systems fit μ
too; on a small site whose proposed notes are mostly good, that pushes every good note's
bias below the line. A fixed μ keeps the line absolute: a note is shown when a reader
on neither side would, by the fit, find it helpful about four times in five.) ``reader_view`` and ``note_view`` form one
dimension along which readers who usually disagree sit apart: helpfulness that only one
side sees is explained by the product term. ``note_bias`` is the helpfulness left once
that is taken out, the part readers on both sides agree on. A note is shown when its
``note_bias`` reaches ``SHOW_AT`` with at least ``MIN_RATINGS`` ratings, of which at
least ``MIN_PER_SIDE`` helpful ones come from readers on each side of the view (without
that, a note that only one side rated, all helpful, would pass: nothing in the ratings
says the other side disagrees). The biases are
regularised more strongly than the views, so the model explains a one-sided pattern
by the view rather than by the bias whenever it can (the published systems do the same).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

SHOW_AT = 0.30  # note_bias a note needs to be shown
MIN_PER_SIDE = 2  # helpful ratings it needs from readers on each side of the view
CENTRE = 0.1  # readers whose |view| is below this are on neither side (so on both)
NEUTRAL = 0.5  # μ: a rating no one leans either way on
MIN_RATINGS = 5  # ratings a note needs before it can be shown
BIAS_PENALTY = 0.15  # on reader_bias and note_bias
VIEW_PENALTY = 0.03  # on reader_view and note_view
ROUNDS = 60


@dataclass(frozen=True, slots=True)
class Rating:
    note: Hashable
    reader: Hashable
    helpful: bool


@dataclass(frozen=True, slots=True)
class NoteScore:
    helpfulness: float  # note_bias: what both sides agree on
    view: float  # note_view: how much the note splits the readers
    ratings: int
    helpful_by_side: tuple[int, int]  # helpful ratings from readers of each side

    @property
    def shown(self) -> bool:
        return (self.ratings >= MIN_RATINGS and self.helpfulness >= SHOW_AT
                and min(self.helpful_by_side) >= MIN_PER_SIDE)


def score_notes(ratings: Sequence[Rating]) -> dict[Hashable, NoteScore]:
    """Every rated note's score, fitted on all ``ratings`` together (a site's, say:
    readers' views are learned from every note they rated)."""
    if not ratings:
        return {}
    notes = {n: i for i, n in enumerate(dict.fromkeys(r.note for r in ratings))}
    readers = {u: i for i, u in enumerate(dict.fromkeys(r.reader for r in ratings))}
    n_idx = np.array([notes[r.note] for r in ratings])
    u_idx = np.array([readers[r.reader] for r in ratings])
    y = np.array([1.0 if r.helpful else 0.0 for r in ratings])
    # The same start each time: one set of ratings always gives the same scores.
    rng = np.random.default_rng(0)
    mu = NEUTRAL
    note_bias, reader_bias = np.zeros(len(notes)), np.zeros(len(readers))
    note_view = rng.normal(0.0, 0.1, len(notes))
    reader_view = rng.normal(0.0, 0.1, len(readers))
    by_note = [np.flatnonzero(n_idx == i) for i in range(len(notes))]
    by_reader = [np.flatnonzero(u_idx == i) for i in range(len(readers))]
    for _ in range(ROUNDS):
        # Each note's (bias, view) given the readers, then each reader's given the notes:
        # two-unknown ridge regressions, solved exactly.
        rest = y - mu - reader_bias[u_idx]
        for i, rows in enumerate(by_note):
            note_bias[i], note_view[i] = _ridge(reader_view[u_idx[rows]], rest[rows])
        rest = y - mu - note_bias[n_idx]
        for i, rows in enumerate(by_reader):
            reader_bias[i], reader_view[i] = _ridge(note_view[n_idx[rows]], rest[rows])
    counts = np.bincount(n_idx, minlength=len(notes))
    helpful = y > 0.5
    # A reader whose view is near the middle counts on both sides: where ratings show
    # no split at all, no one has a side.
    view = reader_view[u_idx]
    first = np.bincount(n_idx[helpful & (view > -CENTRE)], minlength=len(notes))
    second = np.bincount(n_idx[helpful & (view < CENTRE)], minlength=len(notes))
    return {note: NoteScore(float(note_bias[i]), float(note_view[i]), int(counts[i]),
                            (int(first[i]), int(second[i])))
            for note, i in notes.items()}


def _ridge(x: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(b, w) minimising Σ(target − b − w·x)² + BIAS_PENALTY·b² + VIEW_PENALTY·w²."""
    a = np.array([[len(x) + BIAS_PENALTY, x.sum()],
                  [x.sum(), float(x @ x) + VIEW_PENALTY]])
    b = np.array([target.sum(), float(x @ target)])
    bias, view = np.linalg.solve(a, b)
    return float(bias), float(view)
