"""Console labels of the ops screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
}
