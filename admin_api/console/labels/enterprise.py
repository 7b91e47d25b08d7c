"""Console labels of the enterprise screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
}
