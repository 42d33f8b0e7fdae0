// How long until something, for a person: "45 s", "3 min", "2.5 h". Import-free, so the workflow (timer
// labels, Web UI details) and the CLI (the watch's status line) say it the same way.
export function formatDelay(ms: number): string {
  if (ms < 90_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  return ms < 2 * 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}
