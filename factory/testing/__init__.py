"""Rehearsal tools users may run against their own setup (as scikit-learn ships
`utils.estimator_checks`): nothing in the pipeline imports this package.

- `factory.testing.fault_proxy`: an OpenAI-compatible proxy that injects faults (429s, 5xx,
  hangs, truncated bodies) in front of a real teacher, so a teacher setup's retries, budgets and
  resume can be tried before a long run (`factory fault-proxy`).
"""
