"""Console labels of the registration screens: key -> (French, Dutch, English)."""

WORDS: dict[str, tuple[str, str, str]] = {
}
