"""The Rasa side: the REST client, and what Rasa's own processes load (tokenizer, classifier, NLG, actions)."""
