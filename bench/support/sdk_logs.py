"""All log entries of one job through the official SDK's get_all_log_entries, as a user of the SDK would.

argv: <projectId> <secretKey> <jobId>; DATATURE_API_BASE_URL points the SDK at the emulator.
Prints one JSON line: {"entries": n, "unique": distinct ids}.
"""

import json
import sys

from datature.nexus import Client

project_id, secret_key, job_id = sys.argv[1:4]
batch = Client(secret_key).get_project(project_id).batch
ids = [entry.id for entry in batch.jobs.get_all_log_entries(job_id)]
print(json.dumps({"entries": len(ids), "unique": len(set(ids))}))
