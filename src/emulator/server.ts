import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestUrl, sendJson } from '../http-server';
import type { ApiRequest, App } from './app';
import { ApiError, badRequest, decodeSegment, matchRoute, notFound, readJsonBody } from './http';
import { type AdminRequest, adminRoutes } from './routes/admin';
import { datasetRoutes } from './routes/datasets';
import { deploymentRoutes } from './routes/deployments';
import { jobRoutes } from './routes/jobs';
import { webhookRoutes } from './routes/webhooks';

const apiRoutes = [...webhookRoutes, ...datasetRoutes, ...jobRoutes, ...deploymentRoutes];
const UPLOAD_PATH = /^\/_uploads\/([^/]+)$/;
const PROJECT_PATH = /^\/projects\/([^/]+)(?:\/|$)/;

function authenticate(app: App, req: IncomingMessage, projectId: string) {
  const key = req.headers['secret-key'];
  if (typeof key !== 'string' || key === '') throw new ApiError(401, 'missing Secret-Key header');
  const project = app.options.projects.find((candidate) => candidate.id === projectId);
  if (!project) throw notFound(`project ${projectId} not found`);
  if (key !== project.secretKey) throw new ApiError(403, 'the Secret-Key is not valid for this project');
  return project;
}

async function route(app: App, req: IncomingMessage, url: URL): Promise<unknown> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const body = () => readJsonBody(req);
  if (path.startsWith('/_emulator/')) {
    const found = app.options.adminRoutes ? matchRoute(adminRoutes, method, path) : undefined;
    if (!found)
      throw notFound(`no route ${method} ${path} (admin routes are ${app.options.adminRoutes ? 'on' : 'off'})`);
    const request: AdminRequest = { app, body };
    return found.route.handle(request, found.params);
  }
  const projectMatch = PROJECT_PATH.exec(path);
  if (!projectMatch) throw notFound(`no route ${method} ${path}`);
  const project = authenticate(app, req, decodeSegment(projectMatch[1]));
  const found = matchRoute(apiRoutes, method, path);
  if (!found) throw notFound(`no route ${method} ${path}`);
  const request: ApiRequest = { app, project, url, body };
  return found.route.handle(request, found.params);
}

/** Injected faults first, then the signed-upload endpoint, the admin routes and the API. */
export function requestHandler(app: App) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      // Inside the try: a request line no URL parser accepts (`GET //x:99999/`) is a 400, not a crash.
      const url = requestUrl(req);
      if (!url) throw badRequest(`the request URL ${JSON.stringify(req.url)} cannot be parsed`);
      if (!url.pathname.startsWith('/_emulator/')) {
        const fault = app.faults.forRequest(req.method ?? 'GET', url.pathname);
        if (fault.latencyMs > 0) await sleep(fault.latencyMs);
        if (fault.hold) await fault.hold;
        if (fault.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'status') {
          req.resume();
          const headers: Record<string, string> =
            fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
          return sendJson(res, fault.status, { message: `injected fault: HTTP ${fault.status}` }, headers);
        }
      }
      const upload = UPLOAD_PATH.exec(url.pathname);
      if (upload) return await app.files.handleUpload(req, res, upload[1], url.searchParams);
      sendJson(res, 200, await route(app, req, url));
    } catch (error) {
      req.resume();
      if (res.headersSent) return void res.destroy();
      if (error instanceof ApiError) return sendJson(res, error.status, { message: error.message });
      console.error('emulator: unexpected error', error);
      sendJson(res, 500, { message: 'internal emulator error' });
    }
  };
}
