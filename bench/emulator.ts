import { Agent, fetch } from 'undici';
import { readFileSync } from 'node:fs';
import { graphToken, rssMb, spawnEmulator } from './support.ts';

// Emulator bench: start-up time and memory by tenant size, and requests per second for a users page.

export interface EmulatorRow {
  users: number;
  startupMs: number;
  rssMb: number;
  rssAfterPagesMb: number;
  usersPageRps: number;
}

export async function benchEmulator(users: number, seconds = 5): Promise<EmulatorRow> {
  const emulator = await spawnEmulator(['--users', String(users), '--seed', 'bench']);
  try {
    const rssStart = rssMb(emulator.child.pid!);
    const dispatcher = new Agent({ connect: { ca: readFileSync(emulator.info.ca, 'utf8') }, connections: 16 });
    const { info } = emulator;
    const token = await graphToken(info, dispatcher);
    const url = `${info.graphUrl}/v1.0/users?$select=id,displayName,userPrincipalName,department,jobTitle,accountEnabled&$top=100`;
    let done = 0;
    const until = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < until) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`users page answered ${res.status}`);
        done++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: 8 }, worker));
    const rps = done / ((performance.now() - started) / 1000);
    const rssAfter = rssMb(emulator.child.pid!);
    await dispatcher.close();
    return {
      users,
      startupMs: Math.round(emulator.startMs),
      rssMb: Math.round(rssStart),
      rssAfterPagesMb: Math.round(rssAfter),
      usersPageRps: Math.round(rps),
    };
  } finally {
    await emulator.stop();
  }
}
