"""The deploy gate, `monitor verify`: `verdict` judges statuses and renders the reports (pure),
`rounds` probes, waits and samples with the daemon's own probes and normalizer, and `output`
runs both and sends each report to its stream or file."""
