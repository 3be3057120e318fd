"""cloudqueue stack: one Queue per entry of `cloudqueue:queues`, outputs nested by cloud."""

import pulumi

from components import Queue, validate_all

config = pulumi.Config("cloudqueue")
# Protect queues and dead-letter queues (the data) from deletion; true in prod.
protect = config.get_bool("protect") or False
# Every queue is validated before the first resource is registered: nothing is half-created.
specs = validate_all(config.require_object("queues"))

# Queues on Azure share one resource group, namespace and storage account, and queues on Google
# Cloud one source bucket; Queue creates them once per stack, protected like the queues.
for queue_name, spec in specs.items():
    pulumi.export(queue_name, Queue(queue_name, spec, pulumi.ResourceOptions(protect=protect)).outputs)
