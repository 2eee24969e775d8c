"""A fake Vertex AI Gemini endpoint (generateContent, streamGenerateContent), bearer checked."""

from gateway_fakes.vertex.app import DEFAULT_VERTEX_TOKEN, create_vertex_fake

__all__ = ["DEFAULT_VERTEX_TOKEN", "create_vertex_fake"]
