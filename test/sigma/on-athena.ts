import type { Detection } from '../../src/detect/catalog.js';
import type { AthenaDetectResult } from '../../src/engines/athena-detect.js';
import { AthenaRunner } from '../../src/engines/athena-client.js';
import { runAthenaDetections } from '../../src/engines/athena-detect.js';
import { FakeAthena } from '../fakes/athena-server.js';
import { useFakeAwsEnv } from '../fakes/http.js';
import { AthenaEmulator } from '../engines/emulator.js';

/** Runs detections through the Athena dialect layer over `records`, on the Athena stand-in behind the fake Athena API. */
export async function detectOnAthena(records: readonly unknown[], detections: readonly Detection[]): Promise<AthenaDetectResult> {
  useFakeAwsEnv();
  const emulator = await AthenaEmulator.create([...records], 'projection');
  const fake = await new FakeAthena({ answer: (q) => emulator.answer(q), tables: { 'security.cloudtrail_logs': emulator.metadata() }, pageSize: 500 }).start();
  const runner = new AthenaRunner({ database: 'security', table: 'cloudtrail_logs', endpointUrl: fake.endpoint, region: 'us-east-1', outputLocation: 's3://results/', poll: { initialMs: 1, factor: 1, maxMs: 1 } });
  try {
    const table = await runner.describeTable();
    return await runAthenaDetections(runner, table, detections, { window: {}, sensitive: [] });
  } finally {
    runner.close();
    await fake.stop();
    emulator.close();
  }
}
