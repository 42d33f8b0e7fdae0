// The deployment lookups the SDK's jobs.create needs; deployments themselves come from the emulator options.
import { type ApiRequest, type ApiRoute, projectPath } from '../app';
import { notFound } from '../http';
import type { EmulatorDeployment } from '../options';

const INSTANCES = [
  { instanceId: 'instance_x1cpu-standard', resources: { cpu: 4, ram: 8192 }, accelerator: null },
  {
    instanceId: 'instance_t4-standard-1g',
    resources: { cpu: 4, ram: 16384, GPU_T4: 1 },
    accelerator: { kind: 'NvidiaGpu', name: 'T4', count: 1, cudaCores: 2560, vramBytes: 16 * 1024 ** 3 },
  },
  {
    instanceId: 'instance_l4-standard-1g',
    resources: { cpu: 8, ram: 32768, GPU_L4: 1 },
    accelerator: { kind: 'NvidiaGpu', name: 'L4', count: 1, cudaCores: 7424, vramBytes: 24 * 1024 ** 3 },
  },
];

function deploymentJson(request: ApiRequest, deployment: EmulatorDeployment) {
  const started = request.app.startedAt;
  return {
    id: deployment.id,
    name: deployment.name ?? deployment.id,
    status: { overview: deployment.overview ?? 'Available', message: 'Emulated deployment', updateDate: started },
    createDate: started,
    updateDate: started,
    projectId: request.project.id,
    artifactId: 'artifact_000000000000000000000001',
    versionTag: 'v1',
    region: 'emulator',
    instanceId: 'instance_x1cpu-standard',
    resources: { cpu: 4, ram: 8192 },
    scaling: { replicas: deployment.replicas, mode: 'FixedReplicaCount' },
    url: `${request.app.baseUrl()}/_deployments/${deployment.id}`,
  };
}

export const deploymentRoutes: ApiRoute[] = [
  {
    method: 'GET',
    pattern: projectPath('deployments'),
    handle: (request) => (request.project.deployments ?? []).map((deployment) => deploymentJson(request, deployment)),
  },
  {
    method: 'GET',
    pattern: projectPath('deployments/{id}'),
    handle(request, [id]) {
      const deployment = request.project.deployments?.find((candidate) => candidate.id === id);
      if (!deployment) throw notFound(`deployment ${id} not found`);
      return deploymentJson(request, deployment);
    },
  },
  {
    method: 'GET',
    pattern: projectPath('artifacts/{id}/availableInstances/regions/{id}'),
    handle: (_request, [artifactId, region]) => ({
      artifactId,
      region,
      availableInstances: INSTANCES.map((instance) => ({ ...instance, regions: ['us', 'asia-east1'] })),
    }),
  },
];
