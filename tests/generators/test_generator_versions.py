"""Rendered bytes are pinned per generator version, so a change to them cannot slip past the zoo.

Zoo entries (synthgap.zoo) are current while their generator's ``version`` is unchanged. If a
change alters the bytes of a (seed, index), this test fails: raise the style's ``version`` (its
zoo entries then show as stale) and replace its row with the one the failure prints.
"""

from __future__ import annotations

import hashlib

import pytest

from synthgap.generators import create_generator, list_generators

# style-variant: (version, first 16 hex digits of SHA-256 of generate(4, seed=12345) images)
DIGESTS = {
    "baidu2011-plain": (1, "d0cbb3d285b45648"),
    "baidu2011-elastic": (1, "5419edad66d65da3"),
    "baidu2013-plain": (1, "8d8256fcc438a633"),
    "baidu2013-elastic": (1, "ce374cb7b1e2a92f"),
    "captcha_v2-plain": (1, "08b506dcf737ccda"),
    "captcha_v2-elastic": (1, "a3b187001214c845"),
    "ebay-plain": (1, "1a45328eb3fcc0de"),
    "ebay-elastic": (1, "03a2c96456c27039"),
    "facebook-plain": (2, "9062470440b220d1"),
    "facebook-elastic": (2, "73dfaf63090c025b"),
    "facebook_look-plain": (2, "178b3ef8e6431a99"),
    "facebook_look-elastic": (2, "2164bd709921b5b2"),
    "recaptcha-plain": (2, "6f826bccde317854"),
    "recaptcha-elastic": (2, "a58c263db441cba8"),
    "wikipedia-plain": (1, "57ddfea9e8382d11"),
    "wikipedia-elastic": (1, "22ca02f1e75af347"),
    "wikipedia_confirmedit-plain": (3, "93f40f1ee8b7f643"),
    "wikipedia_confirmedit-elastic": (3, "44205537984f6f06"),
    "wikipedia_confirmedit_noise-plain": (3, "3ec6db8a2a131cc0"),
    "wikipedia_confirmedit_noise-elastic": (3, "498634746647f821"),
    "yahoo-plain": (1, "1d7cf4ebc698cc08"),
    "yahoo-elastic": (1, "ff850c21b1aa1519"),
}


@pytest.mark.parametrize("elastic", [False, True], ids=["plain", "elastic"])
@pytest.mark.parametrize("style", list_generators())
def test_rendered_bytes_match_the_pinned_digest_of_the_version(style, elastic):
    gen = create_generator(style, elastic=elastic)
    key = f"{style}-{gen.variant}"
    images, _ = gen.generate(4, seed=12345)
    row = (gen.version, hashlib.sha256(images.tobytes()).hexdigest()[:16])
    assert key in DIGESTS, f"new style: add its row {key!r}: {row}"
    assert row == DIGESTS[key], (
        f"{key}: rendered bytes changed; if on purpose, raise {type(gen).__name__}.version and pin "
        f"{key!r}: {(DIGESTS[key][0] + 1, row[1]) if row[0] == DIGESTS[key][0] else row}"
    )
