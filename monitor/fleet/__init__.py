"""Several daemons as one fleet: `sharding` (which replica owns which check, pure), `merge` (one
view from several replicas' `/status`, pure) and `status_client` (fetching those documents)."""
