"""Reports and scheme paperwork rendered from an assessment: json, html, pdf, oscal, sarif."""

from __future__ import annotations

from cybersafe.render.interface import OutputFormat, Renderer, render, renderer_for

__all__ = ["OutputFormat", "Renderer", "render", "renderer_for"]
