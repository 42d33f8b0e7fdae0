/**
 * Every secret the process has read (API secret key, webhook secrets) is registered here so that
 * anything the CLI prints, including error messages from deeper layers, has it masked.
 */
const knownSecrets = new Set<string>();

export function registerSecret(secret: string): void {
  if (secret.length >= 4) knownSecrets.add(secret);
}

export function redactSecrets(text: string): string {
  let redacted = text;
  for (const secret of knownSecrets) redacted = redacted.split(secret).join('***');
  return redacted;
}
