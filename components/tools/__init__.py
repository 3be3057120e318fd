"""The tools around the library: they import `cloudqueue`, and the library never imports them.

- `cli`: the `cloudqueue` command (`validate`, `plan`, `local`, `send`, `dlq`);
- `stack_config`: a stack's config read from Pulumi.yaml and Pulumi.<stack>.yaml, as the CLI hands it over;
- `plan`: the offline plan of a stack (grouping, equivalence table, views, resource graph);
- `mocks`: the realistic mock engine the plan and the tests run programs on (one module per provider);
- `policy_check`: runs a policy pack over recorded resources, as the engine would;
- `local`: the local run of a consumer against an SQS emulator;
- `provider`: the component provider for programs in other languages;
- `ops`: day-two operations on a deployed stack (`send --stack`, `dlq`).

Tests guard the direction: tests/components/tools/test_layout.py fails when a library module
imports this package, or when any two modules of the package import each other in a circle.
"""
