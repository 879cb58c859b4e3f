"""The audit side: the indexer that follows every event into SQL (indexer), the store and its
migrations (store, migrations/), and the auditor's queries, totals and exports (queries)."""
