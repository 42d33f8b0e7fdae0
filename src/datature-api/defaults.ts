// No imports: the CLI and the worker read these without loading the client.

/** The hosted API, used when neither an explicit base URL nor env DATATURE_API_BASE_URL is given. */
export const DEFAULT_API_BASE_URL = 'https://api.datature.io';
