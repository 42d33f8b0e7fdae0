"""Drives the official Datature SDK (datature.nexus) through the whole batch flow against the emulator.

argv[1]: JSON config {projectId, secretKey, deploymentId, receiverUrl, imageUrls, workDir}
(DATATURE_API_BASE_URL points the SDK at the emulator). Prints one line `SUMMARY <json>` at the end;
any SDK error or decode failure raises and exits non-zero.
"""

import json
import os
import sys
import time

from datature.nexus import Client
from datature.nexus.api.batch import models as batch_models
from datature.nexus import models
from datature.nexus.utils import utils

config = json.loads(sys.argv[1])
project = Client(config["secretKey"]).get_project(config["projectId"])
batch = project.batch
summary = {}


def write_ndjson(name, urls):
    path = os.path.join(config["workDir"], name)
    with open(path, "w", encoding="utf-8") as file:
        for url in urls:
            file.write(json.dumps({"kind": "Image", "url": url}) + "\n")
    return path


# Webhooks
secret = utils.generate_webhook_secret()
webhook = batch.webhooks.create(
    "sdk-webhook",
    {
        "endpoint": config["receiverUrl"],
        "retries": {"max_retries": 2, "max_retry_delay": 15000},
        "secret": {"contents": secret},
    },
)
assert isinstance(webhook, batch_models.WebhookModel)
spare = batch.webhooks.create("sdk-spare", {"endpoint": config["receiverUrl"] + "/spare"})
listed = batch.webhooks.list()
assert isinstance(listed, models.PaginationResponse)
got = batch.webhooks.get(webhook.id)
updated = batch.webhooks.update(
    webhook.id, {"endpoint": config["receiverUrl"], "retries": {"max_retries": 3, "max_retry_delay": 15000}}
)
rotated = utils.generate_webhook_secret()
after_secret = batch.webhooks.update_secret(webhook.id, rotated)
tested = batch.webhooks.test(webhook.id)
assert isinstance(tested, batch_models.WebhookTestResponse)
deleted_webhook = batch.webhooks.delete(spare.id)
summary["webhooks"] = {
    "listed": len(listed.data),
    "got": got.id == webhook.id,
    "updatedRetries": updated.retries.max_retries,
    "updateSecretId": after_secret.id,
    "testStatus": tested.status,
    "testCode": tested.response_code,
    "deleted": deleted_webhook.deleted,
    "secret": rotated,
}

# Datasets
dataset_path = write_ndjson("items.ndjson", config["imageUrls"])
dataset = batch.datasets.create("sdk-dataset", dataset_path)
assert isinstance(dataset, batch_models.Dataset)
ready = batch.datasets.wait_until_done(dataset.id, interval=1)
throwaway = batch.datasets.create("sdk-throwaway", write_ndjson("one.ndjson", config["imageUrls"][:1]))
batch.datasets.wait_until_done(throwaway.id, interval=1)
datasets = batch.datasets.list()
got_dataset = batch.datasets.get(dataset.id)
deleted_dataset = batch.datasets.delete(throwaway.id)
summary["datasets"] = {
    "createdOverview": dataset.status.overview,
    "overview": ready.status.overview,
    "itemCount": ready.status.item_count,
    "listed": len(datasets.data),
    "got": got_dataset.id == dataset.id,
    "deleted": deleted_dataset.deleted,
}

# Jobs
job = batch.jobs.create(
    "sdk-job",
    {"dataset_id": dataset.id, "webhook_id": webhook.id, "deployment_id": config["deploymentId"]},
)
assert isinstance(job, batch_models.Job)
finished = batch.jobs.wait_until_done(job.id, interval=1)
got_job = batch.jobs.get(job.id)
jobs = batch.jobs.list()
page = batch.jobs.get_logs(job.id, {"max_entries": 10})
assert isinstance(page, batch_models.JobLogs)
entries = list(batch.jobs.get_all_log_entries(job.id))
later = batch.jobs.create(
    "sdk-later",
    {
        "dataset_id": dataset.id,
        "webhook_id": webhook.id,
        "artifact_id": "artifact_0123456789abcdef01234567",
        "deployment_metadata": {"replicas": 1},
        "start_at_time": int(time.time() * 1000) + 3_600_000,
    },
)
cancelled = batch.jobs.cancel(later.id)
deleted_job = batch.jobs.delete(later.id)
summary["jobs"] = {
    "createdOverview": job.status.overview,
    "overview": finished.status.overview,
    "message": finished.status.message,
    "delivered": finished.status.items.delivered,
    "gathered": got_job.status.items.gathered,
    "listed": len(jobs.data),
    "logPage": len(page.entries),
    "allEntries": len(entries),
    "distinctItems": len({entry.item for entry in entries}),
    "entryStatus": entries[0].status,
    "ephemeralKind": type(later.spec.deployment).__name__,
    "ephemeralInstance": later.spec.deployment.template.instance_id,
    "cancelledAt": cancelled.status.cancelled_at is not None,
    "deleted": deleted_job.deleted,
}

print("SUMMARY " + json.dumps(summary))
