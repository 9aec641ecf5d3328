"""The data contract and ingest: what a delivery holds, and how it is read, checked, scrubbed and templated."""
