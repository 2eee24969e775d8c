"""Vertex AI Gemini: generateContent / streamGenerateContent translation, bearer-token auth."""

from gateway_providers.vertex.adapter import VertexGeminiAdapter
from gateway_providers.vertex.stream import GeminiStreamParser

__all__ = ["GeminiStreamParser", "VertexGeminiAdapter"]
