"""The whole batch flow through the official SDK with its defaults, as a script written against it would:
create + upload the dataset, wait, create the job, wait, read all logs.

argv: <projectId> <secretKey> <deploymentId> <webhookId> <ndjson file>; DATATURE_API_BASE_URL points the
SDK at the emulator. Prints one JSON line: {"jobId", "noticedMs" (when wait_until_done returned), "entries"}.
"""

import json
import sys
import time

from datature.nexus import Client

project_id, secret_key, deployment_id, webhook_id, path = sys.argv[1:6]
batch = Client(secret_key).get_project(project_id).batch
dataset = batch.datasets.create("sdk-bench", path)
batch.datasets.wait_until_done(dataset.id)
job = batch.jobs.create(
    "sdk-bench", {"dataset_id": dataset.id, "webhook_id": webhook_id, "deployment_id": deployment_id}
)
batch.jobs.wait_until_done(job.id)
noticed_ms = int(time.time() * 1000)
entries = list(batch.jobs.get_all_log_entries(job.id))
print(json.dumps({"jobId": job.id, "noticedMs": noticed_ms, "entries": len(entries)}))
