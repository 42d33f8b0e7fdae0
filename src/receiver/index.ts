export type { StoredPrediction } from './prediction-store';
export type { Receiver, ReceiverOptions } from './receiver-server';
export { JobWatch, startReceiver } from './receiver-server';
