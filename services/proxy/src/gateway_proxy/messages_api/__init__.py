"""The Anthropic Messages API in front of the chat completions pipeline (see routes/messages.py)."""
