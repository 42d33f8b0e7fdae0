export { temporalCliPath, temporalTestServerPath, venvPythonPath } from './binaries';
export { type Stack, type StackOptions, startStack } from './stack';
export type { StackState } from './stack-state';
