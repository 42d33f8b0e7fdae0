// The scheduler: starts jobs at startAtTime, stops them at stopAtTime or on cancel, flushes outcomes,
// marks them Reached or Failed. One timer for all jobs; items move on async I/O, never in a sync loop.
import { Agent } from 'undici';
import type { Clock } from './clock';
import type { Faults } from './faults';
import { JobRunner } from './job-runner';
import type { ResolvedOptions } from './options';
import {
  ACTIVE_JOB_STATES,
  type Counters,
  JOB_FAILED,
  JOB_REACHED,
  JOB_RUNNING,
  JOB_WAITING,
  type JobRow,
  type Store,
} from './store';

export class JobEngine {
  private readonly runners = new Map<string, JobRunner>();
  readonly httpDispatcher = new Agent({ connections: 256, keepAliveTimeout: 10_000 });
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly faults: Faults,
    private readonly options: ResolvedOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.tickIntervalMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    for (const runner of this.runners.values()) runner.abandon();
    await Promise.allSettled([...this.runners.values()].map((runner) => runner.done));
    for (const runner of this.runners.values()) runner.flush();
    this.runners.clear();
    await this.httpDispatcher.close();
  }

  /** Counters of items not yet in the database, to add to the stored ones. */
  liveCounters(jobId: string): Counters | undefined {
    return this.runners.get(jobId)?.liveCounters();
  }

  /** Writes a job's buffered outcomes now, so a logs query sees every finished item. */
  flush(jobId: string): void {
    this.runners.get(jobId)?.flush();
  }

  /** A deleted job: its runner stops at once, its outcomes are dropped. */
  forget(jobId: string): void {
    const runner = this.runners.get(jobId);
    if (!runner) return;
    runner.abandon();
    this.runners.delete(jobId);
  }

  /** Runs one scheduling pass now (also called by the timer). */
  tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const job of this.store.jobsInStates(ACTIVE_JOB_STATES)) this.advance(job);
    } finally {
      this.ticking = false;
    }
  }

  private advance(job: JobRow): void {
    const now = this.clock.now();
    const runner = this.runners.get(job.id);
    if (runner) {
      runner.flush();
      if (now >= job.stop_at) runner.stop();
      return;
    }
    if (job.overview === JOB_WAITING && now >= job.stop_at) {
      this.finish(job, job.cancelled_at !== null ? 'Cancelled' : 'Stopped at stopAtTime');
    } else if (job.overview === JOB_RUNNING || now >= job.start_at) {
      this.launch(job);
    }
  }

  private launch(job: JobRow): void {
    const replicas = this.servingReplicas(job);
    const dataset = this.store.datasetById(job.dataset_id);
    if (typeof replicas === 'string') {
      this.fail(job, replicas);
      return;
    }
    if (dataset?.overview !== 'Uploaded') {
      this.fail(job, `dataset ${job.dataset_id} is not available`);
      return;
    }
    if (job.overview === JOB_WAITING) {
      const now = this.clock.now();
      // The internal state; the wire shows options.runningJobOverview for it (wire.ts).
      this.store.updateJob(job.id, { overview: JOB_RUNNING, message: JOB_RUNNING, status_date: now, update_date: now });
    }
    const runner = new JobRunner(job, dataset.item_count, {
      store: this.store,
      clock: this.clock,
      faults: this.faults,
      dispatcher: this.httpDispatcher,
      concurrency: Math.max(1, replicas * this.options.concurrencyPerReplica),
      gatherTimeoutMs: this.options.gatherTimeoutMs,
      modelLatencyMs: this.options.modelLatencyMs,
      deliveryBaseBackoffMs: this.options.deliveryBaseBackoffMs,
      deliveryTimeoutMs: this.options.deliveryTimeoutMs,
    });
    this.runners.set(job.id, runner);
    runner.done.then(
      () => this.settle(job.id, runner),
      (error: Error) => {
        this.runners.delete(job.id);
        const current = this.store.jobById(job.id);
        if (current) this.fail(current, `internal emulator error: ${error.message}`);
      },
    );
  }

  private settle(jobId: string, runner: JobRunner): void {
    if (this.closing || this.runners.get(jobId) !== runner) return;
    runner.flush();
    this.runners.delete(jobId);
    const job = this.store.jobById(jobId);
    if (job?.overview !== JOB_RUNNING) return;
    if (runner.accountedFor) this.finish(job, 'Finished');
    else this.finish(job, job.cancelled_at !== null ? 'Cancelled' : 'Stopped at stopAtTime');
  }

  /** Replicas the job's deployment serves with, or why it cannot serve. */
  private servingReplicas(job: JobRow): number | string {
    const deployment = JSON.parse(job.deployment) as
      | { kind: 'ExistingDeployment'; deploymentId: string }
      | { kind: 'NewEphemeralDeployment'; template: { replicas?: number } };
    if (deployment.kind === 'NewEphemeralDeployment') return deployment.template.replicas ?? 1;
    const project = this.options.projects.find((candidate) => candidate.id === job.project_id);
    const found = project?.deployments?.find((candidate) => candidate.id === deployment.deploymentId);
    if (!found) return `deployment ${deployment.deploymentId} not found`;
    if ((found.overview ?? 'Available') !== 'Available') {
      return `deployment ${found.id} cannot serve predictions: it is ${found.overview}`;
    }
    if (found.replicas < 1) return `deployment ${found.id} has no replicas`;
    return found.replicas;
  }

  private finish(job: JobRow, message: string): void {
    const now = this.clock.now();
    this.store.updateJob(job.id, { overview: JOB_REACHED, message, status_date: now, update_date: now });
  }

  private fail(job: JobRow, reason: string): void {
    const now = this.clock.now();
    this.store.updateJob(job.id, {
      overview: JOB_FAILED,
      message: JOB_FAILED,
      reason,
      status_date: now,
      update_date: now,
    });
  }
}
