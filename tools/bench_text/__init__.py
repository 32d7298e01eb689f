"""ember.text against transformers: BERT-base inference and GPT-2 small generation."""
