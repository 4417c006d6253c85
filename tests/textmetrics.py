"""Character error rate of recognised text against exact ground truth (used by the tests and by bench/)."""

import unicodedata


def normalise(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become their ASCII forms), whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of one character each cost 1."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def weighted_cer(images: list[dict], key: str = "cer") -> float | None:
    """CER of a set in %, from per-image records with `chars` and `key`: all its errors over all its
    characters, so that a long page weighs more than a word."""
    chars = sum(i["chars"] for i in images)
    return round(100 * sum(i[key] * i["chars"] for i in images) / chars, 1) if chars else None


def cer(recognised: str, truth: str) -> float:
    """Edit distance over the ground truth's length, both normalised; 0.0 is exact, 1.0 is all wrong."""
    recognised, truth = normalise(recognised), normalise(truth)
    if not truth:
        return 0.0 if not recognised else 1.0
    return edit_distance(recognised, truth) / len(truth)
