"""Console labels of the senders screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
}
