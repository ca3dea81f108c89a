"""Rasa tokenizer: whitespace tokens, plus a Latin spelling of each Devanagari or Bengali word."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.romanize import romanize


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class RomanizingTokenizer(WhitespaceTokenizer):  # type: ignore[misc]
    """WhitespaceTokenizer that also adds each Hindi, Nepali or Bengali word in Latin letters.

    People text the same words in both scripts ("मालिक पैसा नहीं दे रहा", "malik paisa nahi de
    raha"), so the extra tokens let examples in one script teach the model about the other
    (`make bench-nlu` measured the gain on the held-out split and the unseen set).
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Whitespace tokens, then the romanized copies at the same positions."""
        tokens: list[Token] = super().tokenize(message, attribute)
        extra = [Token(latin, token.start, token.end) for token in tokens if (latin := romanize(token.text))]
        return tokens + extra
