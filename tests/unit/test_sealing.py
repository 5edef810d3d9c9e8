"""Sealing values at rest (core/sealing.py): what a sealed value looks like, what opens
it and what does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rostra.core.sealing import PREFIX, Purpose, Sealer, Unsealable, is_sealed

KEY = "a-configured-secret-key-of-the-server"


@given(st.text(min_size=1, max_size=300))
def test_it_opens_what_it_sealed(plain: str) -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(plain, Purpose.WEBHOOK)
    assert is_sealed(sealed) and sealed.startswith(f"{PREFIX}v1:{sealer.key_id}:")
    assert "=" not in sealed  # base64url without padding: one word, safe in any text
    assert len(plain) < 12 or plain not in sealed
    assert Sealer(KEY).open(sealed, Purpose.WEBHOOK) == plain


def test_each_seal_differs_and_a_totp_secret_fits_its_column() -> None:
    sealer = Sealer(KEY)
    totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # pyotp.random_base32(): 32 characters
    first, second = sealer.seal(totp, Purpose.TOTP), sealer.seal(totp, Purpose.TOTP)
    assert first != second  # a fresh nonce each time
    assert len(first) <= 255


def test_plain_values_from_before_read_as_they_are() -> None:
    for sealer in (Sealer(KEY), Sealer("")):
        assert sealer.open("whsec_abc", Purpose.WEBHOOK) == "whsec_abc"
        assert sealer.open("", Purpose.SITE_PROVIDER) == ""


def test_without_a_configured_key_nothing_is_sealed() -> None:
    sealer = Sealer("")
    assert sealer.active is False and sealer.key_id == ""
    assert Sealer(KEY).active is True
    assert sealer.seal("hush", Purpose.SSO) == "hush"
    assert Sealer(KEY).seal("", Purpose.SITE_PROVIDER) == ""  # a public client: no secret


def test_a_value_sealed_with_another_key_says_so() -> None:
    sealed = Sealer("the-key-before").seal("hush", Purpose.SSO)
    with pytest.raises(Unsealable) as caught:
        Sealer(KEY).open(sealed, Purpose.SSO)
    assert caught.value.other_key is True
    assert "another secret_key" in caught.value.reason
    assert str(caught.value) == caught.value.reason
    assert "hush" not in caught.value.reason
    with pytest.raises(Unsealable) as unkeyed:
        Sealer("").open(sealed, Purpose.SSO)
    assert unkeyed.value.other_key and "no secret_key configured" in unkeyed.value.reason


def test_a_damaged_or_misplaced_value_does_not_open() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("hush", Purpose.SSO)
    with pytest.raises(Unsealable) as misplaced:
        sealer.open(sealed, Purpose.TOTP)  # bound to its purpose
    assert misplaced.value.other_key is False
    assert "damaged, or sealed for another purpose" in misplaced.value.reason
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    short = f"{PREFIX}v1:{sealer.key_id}:"
    for damaged in (flipped, sealed[:40], short, short + "AAAA", short + "A" * 16,
                    short + "!!!!", f"{PREFIX}v9:x:y"):
        with pytest.raises(Unsealable):
            sealer.open(damaged, Purpose.SSO)


def test_the_key_id_names_the_key_and_nothing_else() -> None:
    assert Sealer(KEY).key_id == Sealer(KEY).key_id != Sealer(KEY + "!").key_id
    assert Sealer(KEY).sealed_here(Sealer(KEY).seal("x", Purpose.SSO))
    assert not Sealer(KEY + "!").sealed_here(Sealer(KEY).seal("x", Purpose.SSO))


def test_a_value_sealed_by_this_version_opens_in_every_later_one() -> None:
    # Written once by v1 (the key derivation, nonce size and layout are a stored format:
    # changing them would lock every server out of its own secrets).
    stored = "sealed:v1:0ac8df2c:QdW_lU8HqT1jM7tFxoL5C8jPZDVY7uYScNG6J-go1aizAtl3J2KF_DxQKE0"
    sealer = Sealer(KEY)
    assert sealer.key_id == "0ac8df2c" and sealer.sealed_here(stored)
    assert sealer.open(stored, Purpose.TOTP) == "JBSWY3DPEHPK3PXP"


def test_a_format_it_does_not_know_is_no_key_matter() -> None:
    with pytest.raises(Unsealable) as caught:
        Sealer(KEY).open(f"{PREFIX}v2:0ac8df2c:AAAA", Purpose.SSO)
    assert caught.value.other_key is False and "'v2'" in caught.value.reason


def test_thousands_of_seals_all_open() -> None:
    # Each seal draws a new nonce: every ending of the base64 text comes up.
    sealer = Sealer(KEY)
    for n in range(3000):
        plain = f"secret-{n}" * (n % 7 + 1)
        assert sealer.open(sealer.seal(plain, Purpose.WEBHOOK), Purpose.WEBHOOK) == plain
