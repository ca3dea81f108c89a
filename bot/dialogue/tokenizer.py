"""Rasa tokenizer: whitespace tokens, plus the other usual spelling of Hindi, Nepali, Bengali and Arabic words."""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.language.romanize import romanize
from bot.language.text import normalise

_ARABIC = re.compile("[\u0600-\u06ff]")


def other_spelling(word: str) -> str:
    """Return the word's other usual spelling, or '' when it has none.

    Devanagari and Bengali words in Latin letters ("मालिक" -> "malik"): people text the same
    words in both scripts. Arabic words without diacritics and with one form of alef, ya and
    ta marbuta ("جوازي" stays, "أخذ" -> "اخذ", "الشرطة" -> "الشرطه"): people type them all ways.
    """
    if _ARABIC.search(word):
        plain = normalise(word).replace("ة", "ه").replace(" ", "")
        return plain if plain != word else ""
    return romanize(word)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SpellingVariantsTokenizer(WhitespaceTokenizer):  # type: ignore[misc]
    """WhitespaceTokenizer that also adds each word's other usual spelling as a token.

    The extra tokens let examples written one way teach the model about messages written the
    other way (`make bench-nlu` measured the gain on the held-out split and the unseen set).
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Whitespace tokens, then the other spellings at the same positions."""
        tokens: list[Token] = super().tokenize(message, attribute)
        extra = [Token(variant, token.start, token.end) for token in tokens if (variant := other_spelling(token.text))]
        return tokens + extra
