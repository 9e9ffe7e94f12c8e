"""What a layer keeps of its own work (issue 11: its hash, its window on the last input) is
keyed on everything it depends on, so no answer goes stale from one input to the next."""

from cnncalc.kinds.conv import Conv
from cnncalc.kinds.pool import Pool


def test_same_padding_follows_each_input_in_turn():
    """TensorFlow's 'same', k = 3, s = 2: total = max((⌈n/2⌉ − 1)·2 + 3 − n, 0), the smaller
    half first: n = 8 gives 1 → (0, 1); n = 9 gives 2 → (1, 1)."""
    conv = Conv(out_channels=4, kernel=3, stride=2, padding="same")
    assert conv.geometry((3, 8, 8)).padding == ((0, 1), (0, 1))
    assert conv.geometry((3, 9, 9)).padding == ((1, 1), (1, 1))
    assert conv.geometry((3, 8, 8)).padding == ((0, 1), (0, 1))
    assert conv.geometry((3, 8, 9)).padding == ((0, 1), (1, 1))
    # the channels change nothing: a dense block's layers see new channels, the same sizes
    assert conv.geometry((64, 9, 9)).padding == ((1, 1), (1, 1))
    assert conv.geometry((64, 8, 8)).padding == ((0, 1), (0, 1))


def test_output_size_follows_each_input_in_turn():
    """⌊(n − 3 + 2 + 2)/2⌋: 224 → 112, 225 → 113, 1-D 7 → 4."""
    pool = Pool(mode="max", kernel=3, stride=2, padding=1)
    assert pool.out_shape((64, 224, 224)) == (64, 112, 112)
    assert pool.out_shape((64, 225, 225)) == (64, 113, 113)
    assert pool.out_shape((64, 7)) == (64, 4)


def test_equal_layers_hash_alike_whichever_is_hashed_first():
    a, b = Conv(out_channels=8, kernel=3), Conv(out_channels=8, kernel=3)
    hash(a)
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Conv(out_channels=8, kernel=5)}) == 2


def test_a_copy_with_other_options_hashes_as_its_own_options():
    a = Conv(out_channels=8, kernel=3)
    hash(a), a.geometry((3, 9, 9))
    c = a.model_copy(update={"kernel": 5})
    assert hash(c) == hash(Conv(out_channels=8, kernel=5))
    assert c.geometry((3, 9, 9)).kernel == (5, 5)
