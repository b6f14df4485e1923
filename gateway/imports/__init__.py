"""Paper fallback: CSV imports of registrations (and vaccinations done on paper)."""
