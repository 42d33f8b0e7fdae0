// `/_emulator/*`: test controls, mounted only with `adminRoutes: true` (CLI `--admin`). No auth: loopback tooling.
import { z } from 'zod';
import type { App } from '../app';
import { FaultSet } from '../faults';
import { parseBody, type Route } from '../http';

export interface AdminRequest {
  app: App;
  body: () => Promise<unknown>;
}

const ClockBody = z.object({
  offsetMs: z.number().int('must be an integer').optional(),
  frozen: z.boolean().optional(),
});

export const adminRoutes: Route<AdminRequest>[] = [
  {
    method: 'POST',
    pattern: /^\/_emulator\/faults$/,
    async handle({ app, body }) {
      app.faults.set(parseBody(FaultSet, await body()));
      return app.faults.describe();
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/faults$/,
    handle: ({ app }) => app.faults.describe(),
  },
  {
    method: 'DELETE',
    pattern: /^\/_emulator\/faults$/,
    handle({ app }) {
      app.faults.clear();
      return app.faults.describe();
    },
  },
  {
    method: 'POST',
    pattern: /^\/_emulator\/clock$/,
    async handle({ app, body }) {
      const { offsetMs, frozen } = parseBody(ClockBody, await body());
      if (offsetMs !== undefined) app.clock.offsetMs = offsetMs;
      // Freezing keeps the current time (with the new offset); unfreezing returns to the running clock.
      if (frozen !== undefined) app.clock.frozenAt = frozen ? Date.now() + app.clock.offsetMs : undefined;
      app.engine.tick();
      return { offsetMs: app.clock.offsetMs, frozen: app.clock.frozenAt !== undefined, now: app.clock.now() };
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/state$/,
    handle: ({ app }) => ({
      ...app.store.counts(),
      projects: app.options.projects.length,
      clockOffsetMs: app.clock.offsetMs,
      now: app.clock.now(),
      faults: app.faults.describe(),
    }),
  },
];
