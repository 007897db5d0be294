import { demoSettingsFromEnv } from './demo-config';
import { startDemo } from './demo.app';

/** The demo client app for local development (npm start runs it); not part of a production deployment. */
async function main(): Promise<void> {
  let settings;
  try {
    settings = demoSettingsFromEnv(process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const demo = await startDemo(settings);
  console.log(
    `demo app listening at ${settings.baseUrl} (port ${settings.port}), client ${settings.clientId} of ${settings.identityUrl}`,
  );
  const stop = () => void demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main().catch((err: Error) => {
  console.error(`demo app failed: ${err.message}`);
  process.exit(1);
});
