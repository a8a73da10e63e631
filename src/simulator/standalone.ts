// Runs the DigiCert simulator from the command line: SIM_PORT (default 8089), SIM_API_KEY (default "sim-api-key").
import { startSimulator } from "./index";

async function main(): Promise<void> {
  const port = Number(process.env.SIM_PORT ?? 8089);
  const apiKey = process.env.SIM_API_KEY ?? "sim-api-key";
  const sim = await startSimulator({ port, apiKey });
  process.stdout.write(
    `DigiCert simulator listening\n  CertCentral: ${sim.certcentralBaseUrl}\n  ONE:         ${sim.oneBaseUrl}\n  API key:     ${apiKey}\n`,
  );
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`${signal}: stopping simulator\n`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((e) => {
  process.stderr.write(`simulator failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
