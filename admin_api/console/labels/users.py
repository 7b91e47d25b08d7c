"""Console labels of the users screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
}
