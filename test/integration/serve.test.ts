// `metalab serve` as a user runs it: an uncaught exception or unhandled rejection inside the process is logged
// with its stack to logs/host.log, and the lab keeps serving and training.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { hostLogFile } from '../../main/web/hostLog';
import { connectTo, serve } from '../helpers/serve';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

it('survives an uncaught exception and an unhandled rejection, logging both, and keeps its runs going', async () => {
  const home = tempDir();
  // Loaded before the CLI: SIGUSR2 makes a fault of each kind inside the serving process.
  const faults = path.join(home, 'faults.cjs');
  fs.writeFileSync(
    faults,
    `process.on('SIGUSR2', () => {
      setImmediate(() => { throw new Error('boom from a callback'); });
      Promise.reject(new Error('bang from a promise'));
    });`,
  );
  const host = await serve(home, {}, ['--require', faults]);
  const { child, exited } = host;
  try {
    const { api, close } = await connectTo(host.url);
    const created = await api.createExperiment(tinySpec({ training: { steps: 400, batchSize: 16 } }));
    child.kill('SIGUSR2');
    await expect.poll(() => host.stderr(), { timeout: 10_000 }).toMatch(/still serving[\s\S]*still serving/);

    expect(await api.getInfo()).toMatchObject({ host: 'web' });
    const log = fs.readFileSync(hostLogFile(home), 'utf8');
    expect(log).toMatch(/uncaught error, still serving: Error: boom from a callback\n\s+at /);
    expect(log).toMatch(/uncaught error, still serving: Error: bang from a promise\n\s+at /);
    await expect
      .poll(async () => (await api.getRun(created.runIds[0])).status, {
        timeout: 60_000,
        interval: 200,
      })
      .toBe('finished');
    close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
}, 90_000);
