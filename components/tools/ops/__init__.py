"""Day-two operations on a deployed stack: `cloudqueue send --stack` and `cloudqueue dlq`.

Separate from the library: nothing in `cloudqueue` imports this package except the command line,
and only when one of these commands runs. Each cloud's SDK (boto3, azure-servicebus with
azure-identity, google-cloud-pubsub; the `ops` extra) is imported by the command that needs it.

- `outputs`: deployed names from the stack's outputs; spec values with their defaults.
- `engine`: the cloud-neutral peek and redrive loops and their safety rules.
- `journal`: the JSON-lines record of what was moved, refused or purged.
- `aws`, `azure`, `gcp`: one dead-letter queue adapter and `send` per cloud.
- `commands`: the subcommands `cli.py` dispatches to.
"""
