// The stages of one `datasets create` in its own process, timed from inside: loading the client, the
// validation + CRC32C pass, the create POST, the PUT of the bytes. Prints them as JSON (seconds), with the
// process's peak RSS after the load, after the pass and at the end (MiB). The CLI is timed whole by the
// bench; this says where its time and memory go.
// argv: <file>; env: DATATURE_API_BASE_URL, DATATURE_PROJECT_ID, DATATURE_SECRET_KEY (the emulator's).
const [file] = process.argv.slice(2);

/** The kernel's peak resident set of this process so far. */
const peakMiB = () => process.resourceUsage().maxRSS / 1024;

async function main() {
  // As bin/datature-batch.js does before loading the CLI.
  await (require('../../bin/tsx-lexer-ready') as { tsxLexerReady(): Promise<void> }).tsxLexerReady();
  const loadStarted = performance.now();
  const { DatatureClient, validateNdjson } =
    require('../../src/datature-api') as typeof import('../../src/datature-api');
  const loaded = performance.now();
  const loadedPeakMiB = peakMiB();
  const datatureApi = new DatatureClient({
    secretKey: process.env.DATATURE_SECRET_KEY!,
    projectId: process.env.DATATURE_PROJECT_ID!,
    baseUrl: process.env.DATATURE_API_BASE_URL!,
  });
  const described = await validateNdjson(file);
  const validated = performance.now();
  const validatedPeakMiB = peakMiB();
  const dataset = await datatureApi.datasets.createRecord({ name: 'bench-stages', ...described });
  const registered = performance.now();
  await datatureApi.datasets.upload(dataset.status.source.uploadUrl, file, { described });
  const uploaded = performance.now();
  const s = (ms: number) => ms / 1000;
  process.stdout.write(
    `${JSON.stringify({
      // performance.now() counts from the process's start: node's own startup (and tsx's), then loading the client.
      startS: s(loadStarted),
      loadS: s(loaded - loadStarted),
      validateS: s(validated - loaded),
      postS: s(registered - validated),
      uploadS: s(uploaded - registered),
      loadedPeakMiB,
      validatedPeakMiB,
      uploadedPeakMiB: peakMiB(),
    })}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
