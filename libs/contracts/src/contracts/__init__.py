"""Event subjects and `data` payloads; producers and consumers both import these."""
