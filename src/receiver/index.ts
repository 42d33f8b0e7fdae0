export type { StoredPrediction } from './prediction-store';
export type { Receiver, ReceiverOptions } from './receiver-server';
export { startReceiver } from './receiver-server';
