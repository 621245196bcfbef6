"""The conformance kit: checks catalogue, suites, strategies, sandbox and pytest plugin."""
