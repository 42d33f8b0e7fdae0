export { ItemPredictedDelivery, Prediction, WebhookDelivery, WebhookTestDelivery } from './payload';
export { type SignedHeaders, signDelivery, type VerifyResult, verifyDelivery } from './signature';
