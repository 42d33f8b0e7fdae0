// The one de-duplication rule of job log entries read newest first: by (createTime, id). Paging asks
// `beforeTime = T + 1` after an entry at millisecond T (whatever the server's beforeTime does, nothing of T
// is lost), so the entries of T already read come back: they are skipped by id. Only the ids of the oldest
// millisecond read so far are remembered.

/** Where a newest-first read of a job's logs stands: everything newer than `oldestTime`, and these ids of it. */
export interface LogCursorState {
  oldestTime?: number;
  idsAtOldestTime: string[];
}

export class NewestFirstLogCursor {
  private time: number | undefined;
  private ids: Set<string>;

  constructor(state?: LogCursorState) {
    this.time = state?.oldestTime;
    this.ids = new Set(state?.idsAtOldestTime ?? []);
  }

  /** The createTime of the oldest entry read so far (undefined before the first). */
  get oldestTime(): number | undefined {
    return this.time;
  }

  /** The `beforeTime` that resumes the read without losing an entry of the oldest millisecond. */
  get resumeBeforeTime(): number | undefined {
    return this.time === undefined ? undefined : this.time + 1;
  }

  /** True, and the entry is remembered, when it was not read before; false for a repeat. */
  admit(entry: { readonly createTime: number; readonly id: string }): boolean {
    if (this.time !== undefined && entry.createTime > this.time) return false;
    if (entry.createTime === this.time) {
      if (this.ids.has(entry.id)) return false;
    } else {
      this.time = entry.createTime;
      this.ids = new Set();
    }
    this.ids.add(entry.id);
    return true;
  }

  state(): LogCursorState {
    return { oldestTime: this.time, idsAtOldestTime: [...this.ids] };
  }
}
