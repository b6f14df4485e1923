"""The JSON API at /api/v1 (views), its API keys (keys) and its OpenAPI document (openapi)."""
