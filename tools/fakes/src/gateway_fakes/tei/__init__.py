"""A fake Hugging Face Text Embeddings Inference server (`/embed`, `/info`)."""

from gateway_fakes.tei.app import DEFAULT_TEI_KEY, create_tei_fake

__all__ = ["DEFAULT_TEI_KEY", "create_tei_fake"]
