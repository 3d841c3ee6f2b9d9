"""The prompt-token estimate: deterministic, monotone, in the right order of magnitude."""

from clash.trading.tokens import estimate_tokens


def test_known_counts():
    assert estimate_tokens("") == 0
    assert (
        estimate_tokens("Trade the trend with tight stops.") == 7 + 1
    )  # 27 letters / 4, one period
    assert estimate_tokens("2701.5,2703.1") == 4 + 3  # 10 digits / 3, three marks
    assert estimate_tokens("ab\ncd") == 1 + 1  # letters are pooled across words: 4 / 4, one break
    assert estimate_tokens("état") == 1 + 1  # 3 ASCII letters, one accented letter


def test_monotone_and_roughly_four_characters_a_token():
    prose = "Buy the breakout when funding is negative and open interest rises. " * 50
    n = estimate_tokens(prose)
    assert len(prose) / 6 < n < len(prose) / 3
    assert estimate_tokens(prose + "x") >= n
    assert estimate_tokens(prose) == n
