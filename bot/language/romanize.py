"""Spell Devanagari and Bengali words in Latin letters, roughly as people do when they text."""

from __future__ import annotations

# Devanagari (U+0900) and Bengali (U+0980) share one layout: offsets within the block.
_CONSONANTS = {
    0x15: "k", 0x16: "kh", 0x17: "g", 0x18: "gh", 0x19: "n", 0x1A: "ch", 0x1B: "chh", 0x1C: "j", 0x1D: "jh",
    0x1E: "n", 0x1F: "t", 0x20: "th", 0x21: "d", 0x22: "dh", 0x23: "n", 0x24: "t", 0x25: "th", 0x26: "d",
    0x27: "dh", 0x28: "n", 0x2A: "p", 0x2B: "ph", 0x2C: "b", 0x2D: "bh", 0x2E: "m", 0x2F: "y", 0x30: "r",
    0x32: "l", 0x35: "v", 0x36: "sh", 0x37: "sh", 0x38: "s", 0x39: "h", 0x58: "q", 0x59: "kh", 0x5A: "g",
    0x5B: "z", 0x5C: "r", 0x5D: "rh", 0x5E: "f", 0x5F: "y",
}
_VOWELS = {0x05: "a", 0x06: "a", 0x07: "i", 0x08: "i", 0x09: "u", 0x0A: "u", 0x0B: "ri", 0x0D: "e", 0x0F: "e",
           0x10: "ai", 0x11: "o", 0x13: "o", 0x14: "au"}
_VOWEL_SIGNS = {0x3E: "a", 0x3F: "i", 0x40: "i", 0x41: "u", 0x42: "u", 0x43: "ri", 0x45: "e", 0x47: "e",
                0x48: "ai", 0x49: "o", 0x4B: "o", 0x4C: "au", 0x57: "au"}
_NASALS = {0x01: "n", 0x02: "n", 0x03: "h"}
_NUKTA, _VIRAMA = 0x3C, 0x4D
# Block start and the inherent vowel people write after a bare consonant.
_SCRIPTS = ((0x0900, "a"), (0x0980, "o"))


def _script_of(word: str) -> tuple[int, str] | None:
    """Return the block and inherent vowel of the first Devanagari or Bengali letter, if any."""
    for ch in word:
        for block, inherent in _SCRIPTS:
            if block <= ord(ch) < block + 0x80:
                return block, inherent
    return None


def romanize(word: str) -> str:
    """Return the word in Latin letters ('' when it has no Devanagari or Bengali letter).

    Long and short vowels merge and a word-final inherent vowel is dropped, as in texting:
    मेरा मालिक पैसा नहीं -> mera malik paisa nahin; আমার টাকা -> amar taka.
    """
    script = _script_of(word)
    if script is None:
        return ""
    block, inherent = script
    offsets = [ord(ch) - block for ch in word if ord(ch) - block != _NUKTA]
    out: list[str] = []
    for i, offset in enumerate(offsets):
        following = offsets[i + 1] if i + 1 < len(offsets) else None
        if offset in _CONSONANTS:
            out.append(_CONSONANTS[offset])
            if following is not None and (following in _CONSONANTS or following in _NASALS
                                          or following in _VOWELS):
                out.append(inherent)
        elif offset in _VOWELS:
            out.append(_VOWELS[offset])
        elif offset in _VOWEL_SIGNS:
            out.append(_VOWEL_SIGNS[offset])
        elif offset in _NASALS:
            out.append(_NASALS[offset])
        elif 0x66 <= offset <= 0x6F:
            out.append(str(offset - 0x66))
        elif not 0 <= offset < 0x80:
            out.append(chr(offset + block))
    return "".join(out)
